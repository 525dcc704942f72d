// The README's run-config reference is rendered from the tables the validator reads with (run-config.ts,
// lora-config.ts, scst.ts), so every key, type and default documented is the one enforced. After changing a table:
// UPDATE_README=1 npx vitest run test/train/run-config-reference.test.ts
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { integerKey, choiceKey, readTable, renderTable, stringKey } from '../../lib/config-table.js';
import { parseRunConfig, runConfigReference, RUN_KEYS, STAGE_KEYS } from '../../lib/train/run-config.js';

const README = fileURLToPath(new URL('../../README.md', import.meta.url));
const START = '<!-- run-config-reference: rendered by runConfigReference() (lib/train/run-config.ts) -->\n';
const END = '<!-- /run-config-reference -->';

describe('run-config reference', () => {
  it('the README holds the reference the tables render', () => {
    const text = readFileSync(README, 'utf8');
    const from = text.indexOf(START);
    const to = text.indexOf(END);
    expect(from, 'README.md lacks the run-config reference markers').toBeGreaterThanOrEqual(0);
    const current = text.slice(from + START.length, to);
    if (process.env.UPDATE_README === '1' && current !== runConfigReference()) {
      writeFileSync(README, text.slice(0, from + START.length) + runConfigReference() + text.slice(to));
      return;
    }
    expect(current).toBe(runConfigReference());
  });

  it('renders a table: one row per key, `|` escaped, unbounded ranges as ≥', () => {
    const table = {
      beams: integerKey(1, 64, 1, 'Beam width.'),
      steps: integerKey(0, 1e9, undefined, 'Optional.', '— (off)'),
      mode: choiceKey(['a', 'b'], 'a', 'A or b.'),
      note: stringKey('Text.'),
    };
    expect(renderTable(table)).toBe([
      '| key | type | default | meaning |',
      '|---|---|---|---|',
      '| `beams` | integer 1–64 | 1 | Beam width. |',
      '| `steps` | integer ≥ 0 | — (off) | Optional. |',
      '| `mode` | "a" \\| "b" | "a" | A or b. |',
      '| `note` | string | — | Text. |',
    ].join('\n'));
    expect(readTable(table, { beams: 4 }, 'opts')).toEqual({ beams: 4, steps: undefined, mode: 'a', note: undefined });
    expect(() => readTable(table, { beam: 4 }, 'opts')).toThrow('Unknown option "beam" in opts; expected one of "beams", "steps", "mode", "note"');
    expect(() => readTable(table, { mode: 'c' }, 'opts', 'opts.')).toThrow('Expected one of "a", "b" for opts.mode but received "c" of type string');
  });

  it('every key the validator accepts is documented, and documented defaults are the applied ones', () => {
    const minimal = { model: '/m', data: { train: { file: 't.json' }, val: { file: 'v.json' } }, stages: [{}, { scst: true }] };
    const spec = parseRunConfig(minimal, '/base');
    expect(Object.keys(RUN_KEYS)).toContain('zeroShot');
    expect(() => parseRunConfig({ ...minimal, zeroshot: false })).toThrow('Unknown option "zeroshot" in config');
    expect([spec.outDir, spec.seed, spec.zeroShot, spec.eval.maxNewTokens, spec.eval.batchSize, spec.eval.maxImages]).toEqual(['/base/runs/progressive', 0, true, 24, 16, 0]);
    const [ce, scst] = spec.stages;
    expect([ce!.name, ce!.epochs, ce!.lr, ce!.batchSize, ce!.checkpointEverySteps, ce!.maxSteps]).toEqual(['stage1', 1, 1e-4, 8, 50, 0]);
    expect([scst!.name, scst!.lr, scst!.scst!.samples, scst!.scst!.ceWeight]).toEqual(['stage2', 2e-5, 5, 0.3]);
    expect([STAGE_KEYS.lr.default, STAGE_KEYS.batchSize.default, STAGE_KEYS.checkpointEverySteps.default]).toEqual(['1e-4 (2e-5 with `scst`)', '8', '50']);
  });
});

// The default-model pointer: written even when the benchmark home folder does not exist yet (bench --out elsewhere
// on a fresh checkout), read back as the directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultModelDir, setDefaultModel } from '../../lib/hub/default-model.js';

const saved = process.env.BLIP2_PROGRESSIVE_HOME;
const root = mkdtempSync(join(tmpdir(), 'blip2-home-'));
afterEach(() => {
  if (saved === undefined) delete process.env.BLIP2_PROGRESSIVE_HOME;
  else process.env.BLIP2_PROGRESSIVE_HOME = saved;
  rmSync(root, { recursive: true, force: true });
});

describe('default model pointer', () => {
  it('creates the home folder when missing', async () => {
    process.env.BLIP2_PROGRESSIVE_HOME = join(root, 'not', 'yet');
    expect(await defaultModelDir()).toBeUndefined();
    await setDefaultModel('/models/tiny');
    expect(await defaultModelDir()).toBe('/models/tiny');
  });
});

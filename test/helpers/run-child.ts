/**
 * A progressive run in a child process for kill -9 tests and the soak benchmark:
 *   node --import tsx test/helpers/run-child.ts <config.json> [--resume] [--kill-at <event>]
 * prints one JSON line per run event on stdout ({"event": "stage-start", "stage": 1, "t": ms}, "step", "eval",
 * "stage-end", "done") and, with --kill-at `stage-start:<k>` or `stage-end:<k>`, sends itself SIGKILL at that event.
 */
import { readFileSync } from 'node:fs';
import { parseRunConfig } from '../../lib/train/run-config.js';
import { runProgressive } from '../../lib/train/run.js';

const [configFile, ...flags] = process.argv.slice(2);
const killAt = flags.includes('--kill-at') ? flags[flags.indexOf('--kill-at') + 1] : undefined;
const started = Date.now();

function report(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, ...fields, t: Date.now() - started })}\n`);
  if (killAt !== undefined && killAt === `${event}:${String(fields.stage)}`) process.kill(process.pid, 'SIGKILL');
}

const spec = parseRunConfig(JSON.parse(readFileSync(configFile!, 'utf8')));
await runProgressive(spec, {
  resume: flags.includes('--resume'),
  events: {
    onStageStart: (_stage, index) => report('stage-start', { stage: index }),
    onStep: (e) => report('step', { stage: e.stageIndex, step: e.step }),
    onEval: (e) => report('eval', { stageName: e.stage, step: e.step }),
    onStageEnd: (_stage, index) => report('stage-end', { stage: index }),
  },
});
report('done');

// Progress bars on fake clocks and fake streams: the rate counts from the bar's own start (a resumed stage, a
// validation reported from 0), training bars carry loss / lr / reward, a terminal bar is cleared before a log line
// and drawn again after it, and off a terminal a plain line comes every N steps and one at each stage's end.
import { describe, expect, it } from 'vitest';
import { ProgressBar } from '../../lib/cli/progress.js';
import { stepInfo, trainProgress } from '../../lib/cli/train-progress.js';
import { streamLogger } from '../../lib/logger.js';
import type { StageSpec } from '../../lib/train/run-config.js';

function stream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, isTTY, write: (text: string) => { writes.push(text); return true; } };
}

const stage = (name: string) => ({ name }) as StageSpec;
const step = (n: number, extra: Record<string, unknown> = {}) =>
  ({ stage: 'lora', stageIndex: 0, epoch: 0, step: n, totalSteps: 5, lr: 1e-4, loss: 2 + n / 1000, gradNorm: 1, ...extra });

describe('ProgressBar', () => {
  it('a bar resumed at 30 of 40 rates only the steps it saw: 2 in 4 s is 0.5 step/s, not 8', () => {
    let now = 1000;
    const out = stream(false);
    const bar = new ProgressBar(out, 40, 'stage 1 lora', 'step', () => now, { start: 30 });
    now = 5000;
    bar.update(32, 'loss 1.2346');
    expect(out.writes).toEqual(['stage 1 lora [################----] 32/40 0.5 step/s ETA 16s loss 1.2346\n']);
  });

  it('off a terminal: the first update, one every `every` items, and the last', () => {
    let now = 0;
    const out = stream(false);
    const bar = new ProgressBar(out, 5, 'x', 'it', () => now, { every: 2 });
    for (let done = 1; done <= 5; done++) {
      now = done * 1000;
      bar.update(done);
    }
    expect(out.writes.map((l) => l.split(' ')[2])).toEqual(['1/5', '2/5', '4/5', '5/5']);
  });

  it('on a terminal: clear() blanks the drawn line, redraw() puts it back, the last update ends the line', () => {
    let now = 0;
    const out = stream(true);
    const bar = new ProgressBar(out, 2, 'x', 'it', () => now);
    now = 1000;
    bar.update(1);
    const line = 'x [##########----------] 1/2 1.0 it/s ETA 1s';
    bar.clear();
    bar.clear(); // nothing drawn: nothing to blank
    bar.redraw();
    now = 2000;
    bar.update(2);
    bar.redraw(); // finished: stays as it is
    expect(out.writes).toEqual([
      `\r${line}`, `\r${' '.repeat(line.length)}\r`, `\r${line}`, '\rx [####################] 2/2 1.0 it/s in 2s ', '\n', // padded over ETA 1s
    ]);
  });
});

describe('trainProgress', () => {
  it('stepInfo: loss, lr and the mean SCST reward', () => {
    expect(stepInfo({ loss: 2.10424, lr: 1e-4 })).toBe('loss 2.1042 lr 1.00e-4');
    const stats = (mean: number) => ({ mean, std: 0, min: mean, max: mean });
    expect(stepInfo({ loss: 0.5, lr: 2e-5, scst: { reward: stats(0.51204), baseline: stats(0), advantage: stats(0) } })).toBe('loss 0.5000 lr 2.00e-5 reward 0.5120');
  });

  it('on a terminal: a log line clears the bar first and redraws it after; the validation bar rates from 0', () => {
    let now = 0;
    const out = stream(true);
    const progress = trainProgress(out, streamLogger(out as unknown as NodeJS.WritableStream), { now: () => now });
    progress.events.onStageStart!(stage('lora'), 0, 4, 0);
    now = 1000;
    progress.events.onStep!(step(1));
    const line = 'stage 1 lora [#####---------------] 1/4 1.0 step/s ETA 3s loss 2.0010 lr 1.00e-4';
    progress.logger.info('lora: step 1, val CIDEr 0.1000 (best)');
    progress.events.onEvalProgress!(0, 8);
    now = 3000;
    progress.events.onEvalProgress!(8, 8);
    const validation0 = 'validation [--------------------] 0/8 0.0 img/s ETA ?';
    expect(out.writes).toEqual([
      `\r${line}`,
      `\r${' '.repeat(line.length)}\r`, 'lora: step 1, val CIDEr 0.1000 (best)\n', `\r${line}`,
      `\r${' '.repeat(line.length)}\r`, `\r${validation0}`,
      `\rvalidation [####################] 8/8 4.0 img/s in 2s${' '.repeat(validation0.length - 'validation [####################] 8/8 4.0 img/s in 2s'.length)}`, '\n',
    ]);
  });

  it('off a terminal: a line every N steps and one when the stage ends; no validation bar unless asked', () => {
    let now = 0;
    const out = stream(false);
    const progress = trainProgress(out, streamLogger(out as unknown as NodeJS.WritableStream), { now: () => now, every: 2 });
    progress.events.onStageStart!(stage('lora'), 0, 5, 0);
    for (let n = 1; n <= 5; n++) {
      now = n * 500;
      progress.events.onStep!(step(n));
    }
    progress.events.onEvalProgress!(0, 4);
    progress.events.onEvalProgress!(4, 4);
    progress.events.onStageEnd!(stage('lora'), 0, { stage: 'lora', scores: { CIDEr: 0.12346 } }, '/runs/x/stages/1-lora/best');
    expect(out.writes).toEqual([
      'stage 1 lora [####----------------] 1/5 2.0 step/s ETA 2s loss 2.0010 lr 1.00e-4\n',
      'stage 1 lora [########------------] 2/5 2.0 step/s ETA 2s loss 2.0020 lr 1.00e-4\n',
      'stage 1 lora [################----] 4/5 2.0 step/s ETA 1s loss 2.0040 lr 1.00e-4\n',
      'stage 1 lora [####################] 5/5 2.0 step/s in 3s loss 2.0050 lr 1.00e-4\n',
      'stage 1 lora finished: best val CIDEr 0.1235, best adapter /runs/x/stages/1-lora/best\n',
    ]);
  });

  it('a stage stopped early ends its bar\'s line before the stage line', () => {
    let now = 0;
    const out = stream(true);
    const progress = trainProgress(out, streamLogger(out as unknown as NodeJS.WritableStream), { now: () => now });
    progress.events.onStageStart!(stage('aug'), 1, 10, 4); // resumed at step 4
    now = 2000;
    progress.events.onStep!(step(5, { scst: { reward: { mean: 0.25, std: 0, min: 0, max: 1 }, baseline: { mean: 0, std: 0, min: 0, max: 0 }, advantage: { mean: 0, std: 0, min: 0, max: 0 } } }));
    progress.events.onStageEnd!(stage('aug'), 1, { stage: 'aug', scores: { CIDEr: 0.5 } }, '/b');
    expect(out.writes).toEqual([
      '\rstage 2 aug [##########----------] 5/10 0.5 step/s ETA 10s loss 2.0050 lr 1.00e-4 reward 0.2500',
      '\n',
      'stage 2 aug finished: best val CIDEr 0.5000, best adapter /b\n',
    ]);
  });
});

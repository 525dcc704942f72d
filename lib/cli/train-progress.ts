/**
 * What `train` and `bench` show on stderr while a run trains: on a terminal, a bar per stage with loss, lr and (SCST)
 * reward, and a validation bar; elsewhere, a plain line every N steps; everywhere, a line at the end of each stage,
 * and log lines that never run into a bar.
 */
import type { Logger } from '../logger.js';
import type { RunEvents, StepEvent } from '../train/run.js';
import { ProgressBar, type ProgressStream } from './progress.js';

/** Options of {@link trainProgress}. */
export interface TrainProgressOptions {
  /** Validation bars off a terminal too (`--progress`). Default false: off a terminal, only the stages' lines. */
  validationBars?: boolean;
  /** Off a terminal: a stage line every this many steps (`--log-every`). Default: a tenth of the stage. */
  every?: number;
  /** Clock in milliseconds (tests pass a fake one). */
  now?: () => number;
}

/**
 * The run's events to pass to runProgressive, and a logger that clears the bar before each line and redraws it after.
 */
export interface TrainProgress {
  events: RunEvents;
  logger: Logger;
}

/** A training step's numbers after its bar: `loss 2.1042 lr 1.00e-4`, and `reward 0.5120` (mean) in an SCST stage. */
export function stepInfo(event: Pick<StepEvent, 'loss' | 'lr' | 'scst'>): string {
  return `loss ${event.loss.toFixed(4)} lr ${event.lr.toExponential(2)}${event.scst ? ` reward ${event.scst.reward.mean.toFixed(4)}` : ''}`;
}

/** Progress of a training run on `stream`; `logger` is where the run's log lines go (the same stream, usually). */
export function trainProgress(stream: ProgressStream, logger: Logger, options: TrainProgressOptions = {}): TrainProgress {
  const now = options.now ?? (() => performance.now());
  let stageBar: ProgressBar | undefined;
  let evalBar: ProgressBar | undefined;
  // the bar on the terminal's current line: the stage's and the validation's take turns on it
  let active: ProgressBar | undefined;
  const show = (bar: ProgressBar, done: number, info?: string) => {
    if (active !== bar) active?.clear();
    active = bar;
    bar.update(done, info);
    if (bar.finished) active = undefined;
  };
  const around = (write: () => void) => {
    active?.clear();
    write();
    active?.redraw();
  };
  return {
    logger: {
      debug: (message) => around(() => logger.debug(message)),
      info: (message) => around(() => logger.info(message)),
      warn: (message) => around(() => logger.warn(message)),
    },
    events: {
      onStageStart(stage, index, totalSteps, startStep) {
        stageBar = new ProgressBar(stream, totalSteps, `stage ${index + 1} ${stage.name}`, 'step', now, {
          start: startStep, ...(options.every !== undefined ? { every: options.every } : {}),
        });
      },
      onStep(event) {
        if (stageBar) show(stageBar, event.step, stepInfo(event));
      },
      onEvalProgress(done, total) {
        if (!stream.isTTY && options.validationBars !== true) return;
        if (done === 0 || !evalBar || evalBar.total !== total) evalBar = new ProgressBar(stream, total, 'validation', 'img', now);
        show(evalBar, done);
      },
      onStageEnd(stage, index, row, bestDir) {
        // a stage stopped early leaves its bar short of the end: it stays, on a line of its own
        active?.end();
        active = undefined;
        const cider = row.scores.CIDEr === undefined ? '' : `best val CIDEr ${row.scores.CIDEr.toFixed(4)}, `;
        stream.write(`stage ${index + 1} ${stage.name} finished: ${cider}best adapter ${bestDir}\n`);
      },
    },
  };
}

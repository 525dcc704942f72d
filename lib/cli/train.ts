/**
 * `blip2-progressive train --config run.json [--resume]`: the progressive fine-tuning run (see
 * lib/train/run-config.ts for the config and lib/train/run.ts for the run directory).
 */
import type { Command } from 'commander';
import { AbortError } from '../abort.js';
import { streamLogger } from '../logger.js';
import { readRunConfig } from '../train/run-config.js';
import { runProgressive } from '../train/run.js';
import { ProgressBar } from './progress.js';
import { modelFromFlags } from './model-flags.js';

interface TrainFlags {
  config: string;
  resume?: boolean;
  progress?: boolean;
  json?: boolean;
}

/** Adds the `train` command to the program. */
export function register(program: Command, stdout: NodeJS.WritableStream = process.stdout): void {
  program
    .command('train')
    .description('progressive fine-tuning: zero-shot evaluation, then each stage (LoRA, LoRA + augmentation, SCST) with validation and checkpoints')
    .requiredOption('--config <file>', 'run configuration (JSON): model, data, lora, eval, stages')
    .option('--resume', 'continue the unfinished run in the config\'s outDir from its last checkpoint')
    .option('--progress', 'draw progress bars even when stderr is not a terminal')
    .option('--json', 'print the results rows as JSON instead of a Markdown table')
    .addHelpText('after', `
Example config:
  { "model": "./blip2-flan-t5-xl", "outDir": "runs/vizwiz", "seed": 0,
    "data": { "train": { "file": "train.json", "imageRoot": "train" }, "val": { "file": "val.json", "imageRoot": "val" } },
    "lora": { "r": 16, "alpha": 32, "dropout": 0.05 },
    "stages": [ { "name": "lora", "epochs": 3, "lr": 1e-4 },
                { "name": "lora+aug", "epochs": 3, "lr": 1e-4, "augment": true },
                { "name": "scst", "epochs": 1, "lr": 2e-5, "scst": { "samples": 5, "baseline": "greedy" } } ] }

Examples:
  $ blip2-progressive train --config run.json
  $ blip2-progressive train --config run.json --resume     # after a crash, kill -9 or Ctrl-C

Ctrl-C (SIGINT) or SIGTERM: the step in progress finishes and is checkpointed, then the command exits with
code 130; --resume continues from there. A second signal stops at once (resume from the last checkpoint).`)
    .action(async (flags: TrainFlags) => {
      const spec = await readRunConfig(flags.config);
      // a repo id becomes its snapshot directory here (downloaded with a progress bar), which pins the run to that commit
      spec.model = (await modelFromFlags({ model: spec.model, progress: flags.progress === true })).dir;
      const logger = streamLogger(process.stderr);
      const draw = Boolean(process.stderr.isTTY) || flags.progress === true;
      let bar: ProgressBar | undefined;
      let evalBar: ProgressBar | undefined;
      const controller = new AbortController();
      const stop = (signal: NodeJS.Signals) => {
        logger.info(`${signal}: finishing the step in progress and saving a checkpoint (send it again to stop at once)`);
        controller.abort(new Error(`received ${signal}`));
        process.removeListener('SIGINT', stop);
        process.removeListener('SIGTERM', stop);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const summary = await runProgressive(spec, {
        resume: flags.resume === true,
        signal: controller.signal,
        logger,
        events: {
          onStageStart(stage, index, totalSteps) {
            if (draw) bar = new ProgressBar(process.stderr, totalSteps, `stage ${index + 1} ${stage.name}`, 'step');
          },
          onStep(e) {
            bar?.update(e.step);
          },
          onEvalProgress(done, total) {
            if (!draw) return;
            if (done <= Math.min(total, 16) || !evalBar) evalBar = new ProgressBar(process.stderr, total, 'validation', 'img');
            evalBar.update(done);
          },
        },
      }).catch((err: unknown) => {
        if (err instanceof AbortError) throw new AbortError(`${err.message} (--resume)`, { cause: err });
        throw err;
      }).finally(() => {
        process.removeListener('SIGINT', stop);
        process.removeListener('SIGTERM', stop);
      });
      stdout.write(flags.json ? `${JSON.stringify(summary.rows)}\n` : summary.markdown);
    });
}

/**
 * `blip2-progressive train --config run.json [--resume]`: the progressive fine-tuning run (see
 * lib/train/run-config.ts for the config and lib/train/run.ts for the run directory).
 */
import type { Command } from 'commander';
import { AbortError } from '../abort.js';
import { streamLogger } from '../logger.js';
import { readRunConfig, resolveDefaultModel } from '../train/run-config.js';
import { runProgressive, type RunSummary } from '../train/run.js';
import { trainProgress } from './train-progress.js';
import type { ProgressStream } from './progress.js';
import { createHash } from 'node:crypto';
import { launchRanks } from '../distributed/launch.js';
import { ProcessGroup } from '../distributed/process-group.js';
import { parseIntegerFlag, UsageError } from './usage.js';
import { modelFromFlags } from './model-flags.js';

interface TrainFlags {
  config: string;
  resume?: boolean;
  progress?: boolean;
  logEvery?: number;
  json?: boolean;
  nproc?: number;
}

/** How long a rank waits for the others in one collective (rank 0's validation included), as PyTorch's default. */
const RANK_TIMEOUT_MS = 30 * 60 * 1000;

/** Starts `nproc` ranks of this same command on this machine and waits for them. */
async function launch(flags: TrainFlags): Promise<void> {
  const args = [
    'train', '--config', flags.config, ...(flags.resume ? ['--resume'] : []), ...(flags.progress ? ['--progress'] : []),
    ...(flags.logEvery !== undefined ? ['--log-every', String(flags.logEvery)] : []), ...(flags.json ? ['--json'] : []),
  ];
  const controller = new AbortController();
  // Ctrl-C reaches every rank from the terminal; a SIGTERM sent to this process alone is passed on to them
  const ignore = () => {};
  const forward = () => controller.abort();
  process.on('SIGINT', ignore);
  process.on('SIGTERM', forward);
  try {
    const result = await launchRanks(process.execPath, [...process.execArgv, process.argv[1]!, ...args], {
      nproc: flags.nproc!, graceMs: 10 * 60 * 1000, signal: controller.signal,
    });
    if (result.exitCode === 130) throw new AbortError('Training stopped by a signal on every rank; --resume continues from the last checkpoint');
    if (result.failedRank !== undefined) {
      throw new Error(`rank ${result.failedRank} of ${flags.nproc} ${result.signals[result.failedRank] ? `was killed by ${result.signals[result.failedRank]}` : `failed with exit code ${result.exitCode}`}; the other ranks were stopped`);
    }
  } finally {
    process.removeListener('SIGINT', ignore);
    process.removeListener('SIGTERM', forward);
  }
}

/**
 * The end of a run on stdout: the table (or its rows as JSON), then where the run folder and the final best adapter
 * are (on stderr with --json, so that stdout stays one JSON document).
 */
function printResults(summary: RunSummary, json: boolean, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): void {
  if (summary.alreadyFinished) stderr.write(`${summary.outDir} holds a finished run: nothing to resume; its results:\n`);
  stdout.write(json ? `${JSON.stringify(summary.rows)}\n` : summary.markdown);
  const where = `run folder: ${summary.outDir}\nbest adapter: ${summary.bestAdapter} (--adapter ${summary.outDir} loads it)\n`;
  if (json) stderr.write(where);
  else stdout.write(`\n${where}`);
}

/** Adds the `train` command to the program. */
export function register(
  program: Command, stdout: NodeJS.WritableStream = process.stdout, stderr: ProgressStream & NodeJS.WritableStream = process.stderr,
): void {
  program
    .command('train')
    .description('progressive fine-tuning: zero-shot evaluation, then each stage (LoRA, LoRA + augmentation, SCST) with validation and checkpoints')
    .requiredOption('--config <file>', 'run configuration (JSON): model, data, lora, eval, stages')
    .option('--resume', 'continue the unfinished run in the config\'s outDir from its last checkpoint')
    .option('--progress', 'validation progress too when stderr is not a terminal (stage progress is a line every --log-every steps there)')
    .option('--log-every <n>', 'when stderr is not a terminal: a progress line every N steps (default: every tenth of a stage)', parseIntegerFlag('--log-every', 1, 1e9))
    .option('--json', 'print the results rows as JSON instead of a Markdown table')
    .option('--nproc <n>', 'data-parallel ranks on this machine (each takes its share of every batch; threads per rank = cores / n)', parseIntegerFlag('--nproc', 1, 256))
    .addHelpText('after', `
Example config:
  { "model": "default", "outDir": "runs/vizwiz", "seed": 0,
    "data": { "train": { "file": "train.json", "imageRoot": "train" }, "val": { "file": "val.json", "imageRoot": "val" } },
    "lora": { "r": 16, "alpha": 32, "dropout": 0.05 },
    "eval": { "maxNewTokens": 24, "numBeams": 1, "batchSize": 16, "maxImages": 0 },
    "stages": [ { "name": "lora", "epochs": 3, "lr": 1e-4 },
                { "name": "lora+aug", "epochs": 3, "lr": 1e-4, "augment": true },
                { "name": "scst", "epochs": 1, "lr": 2e-5, "scst": { "samples": 5, "baseline": "greedy" } } ] }

Paths are relative to the config file. "model": "default" is the built-in default model (made by \`bench\`); a local
folder or a Hugging Face repo id (org/name) works too. Data files: COCO or VizWiz-Captions annotations, Karpathy's
dataset_coco.json, the paper's processed json, or JSONL ({"image", "captions": [...]} per line), with their images in
imageRoot. Every key, its type and default: the README's run-config reference.
maxSteps only caps a stage's epochs; "steps": N runs exactly N optimizer steps.

At the end the command prints the table, the run folder and the final stage's best adapter; --adapter <run folder>
(caption, eval, serve) loads that adapter.

Examples:
  $ blip2-progressive train --config run.json
  $ blip2-progressive caption photos/*.jpg --adapter runs/vizwiz   # the run's final best adapter
  $ blip2-progressive eval --data val.json --adapter runs/vizwiz    # its captions of val.json, scored
  $ blip2-progressive serve --with-base --adapter mine=runs/vizwiz  # beside the model it started from
  $ blip2-progressive train --config run.json --resume     # after a crash, kill -9 or Ctrl-C
  $ blip2-progressive train --config run.json --nproc 2    # two ranks on this machine (c10d, Gloo)
  $ MASTER_ADDR=host0 MASTER_PORT=29500 WORLD_SIZE=2 RANK=0 blip2-progressive train --config run.json   # on host0
  $ MASTER_ADDR=host0 MASTER_PORT=29500 WORLD_SIZE=2 RANK=1 blip2-progressive train --config run.json   # on host1
Ranks follow torchrun's environment contract (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT), so any
launcher that sets it works; rank 0 writes the run folder, which every rank must be able to read.

Ctrl-C (SIGINT) or SIGTERM: the step in progress finishes and is checkpointed, then the command exits with
code 130; --resume continues from there. A second signal stops at once (resume from the last checkpoint).`)
    .action(async (flags: TrainFlags) => {
      if ((flags.nproc ?? 1) > 1 && process.env.WORLD_SIZE === undefined) {
        await launch(flags);
        return;
      }
      // an unreadable or invalid config is bad usage (exit 2), as a bad flag value is
      const spec = await readRunConfig(flags.config).then(resolveDefaultModel).catch((err: Error) => {
        throw new UsageError(`--config: ${err.message}`, { cause: err });
      });
      // a repo id becomes its snapshot directory here (downloaded with a progress bar), which pins the run to that
      // commit
      spec.model = (await modelFromFlags({ model: spec.model, progress: flags.progress === true })).dir;
      const stderrLogger = streamLogger(stderr);
      // a rank of a data-parallel run (started by --nproc or another launcher): every rank must run the same config
      const group = await ProcessGroup.fromEnv(process.env, {
        timeoutMs: RANK_TIMEOUT_MS, fingerprint: createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16),
      });
      const primary = !group || group.rank === 0;
      // rank 0 shows the progress; the other ranks only log
      const progress = primary
        ? trainProgress(stderr, stderrLogger, { validationBars: flags.progress === true, ...(flags.logEvery !== undefined ? { every: flags.logEvery } : {}) })
        : undefined;
      const logger = progress?.logger ?? stderrLogger;
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
        ...(group ? { group } : {}),
        ...(group && spec.threads === undefined && process.env.OMP_NUM_THREADS ? { threads: Number(process.env.OMP_NUM_THREADS) } : {}),
        signal: controller.signal,
        logger,
        ...(progress ? { events: progress.events } : {}),
      }).catch((err: unknown) => {
        if (err instanceof AbortError) throw new AbortError(`${err.message} (--resume)`, { cause: err });
        throw err;
      }).finally(async () => {
        process.removeListener('SIGINT', stop);
        process.removeListener('SIGTERM', stop);
        await group?.destroy().catch(() => {});
      });
      if (primary) printResults(summary, flags.json === true, stdout, stderr);
    });
}

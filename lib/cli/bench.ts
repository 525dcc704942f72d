/**
 * `blip2-progressive bench`: the built-in benchmark (the README's main job, `npm start`): synthetic data, a tiny
 * BLIP-2 pretrained on clean scenes (cached), the paper's stages on assistive-style images, the results table and
 * report.html. The pretrained model becomes the default of caption, score and serve.
 */
import type { Command } from 'commander';
import { join } from 'node:path';
import { streamLogger } from '../logger.js';
import { packageRoot } from '../native.js';
import { FULL_SCALE, QUICK_SCALE, runSynthBenchmark, type SynthBenchmarkDesign } from '../synth/benchmark.js';
import { singleRunTable } from '../synth/noise.js';
import { TRAIN_VIEWS, type TrainViews } from '../synth/sample.js';
import { runSynthBenchmarkSeeds } from '../synth/seeds.js';
import { benchHome, setDefaultModel } from '../hub/default-model.js';
import { ProgressBar } from './progress.js';
import { trainProgress } from './train-progress.js';
import { parseIntegerFlag, UsageError } from './usage.js';
import { resultsMarkdown } from '../train/results.js';

/** Parses --train-views. */
function parseTrainViews(value: string): TrainViews {
  if (!(TRAIN_VIEWS as readonly string[]).includes(value)) throw new UsageError(`--train-views expects one of ${TRAIN_VIEWS.join(', ')} but received ${JSON.stringify(value)}`);
  return value as TrainViews;
}

interface BenchFlags {
  out?: string;
  seed: number;
  stageSeed?: number;
  seeds?: number;
  pretrainSeeds?: number;
  quick?: boolean;
  trainViews?: TrainViews;
  scstPool?: number;
  threads?: number;
  progress?: boolean;
}

/** Adds the `bench` command to the program. */
export function register(program: Command, stdout: NodeJS.WritableStream = process.stdout): void {
  program
    .command('bench')
    .description('built-in benchmark: synthetic VizWiz-like data, a tiny BLIP-2 pretrained on clean images, then zero-shot -> LoRA -> LoRA + augmentation -> SCST on assistive images; prints the table and writes report.html')
    .option('--out <dir>', 'working folder (default: synth/ or synth-quick/ in $BLIP2_PROGRESSIVE_HOME, else $XDG_CACHE_HOME/blip2-progressive, else ~/.cache/blip2-progressive)')
    .option('--seed <n>', 'seed of data, initialisation and training', parseIntegerFlag('--seed', 0, 2 ** 31 - 1), 0)
    .option('--stage-seed <n>', 'seed of the fine-tuning stages only (LoRA initialisation, batch order, SCST sampling); default --seed', parseIntegerFlag('--stage-seed', 0, 2 ** 31 - 1))
    .option('--seeds <k>', 'statistics over seeds: K stage seeds (--seed, --seed + 1, …) per pretrained model; prints mean ± sd per stage and each stage\'s paired gain with its 95 % interval', parseIntegerFlag('--seeds', 1, 100))
    .option('--pretrain-seeds <m>', 'with --seeds: M independently pretrained models (pretraining seeds --seed, --seed + 1, …; the data stays --seed\'s); default 2', parseIntegerFlag('--pretrain-seeds', 1, 100))
    .option('--quick', 'a shrunken run (tiny data, a few steps) that checks every part in under a minute')
    .option('--train-views <views>', `design: the assistive training images' camera, ${TRAIN_VIEWS.join(' or ')}; one-sided turns and shifts it one way only, so half of the validation and test views are mirror images no training image has (room for the flip augmentation); default all`, parseTrainViews)
    .option('--scst-pool <n>', 'design: SCST learns from N assistive images of its own (the dataset\'s scst split) instead of the cross-entropy stages\' 100 training images (0: on those); default 400', parseIntegerFlag('--scst-pool', 0, 1_000_000))
    .option('--threads <n>', 'intra-op threads (default: 1 for this small model)', parseIntegerFlag('--threads', 1, 1024))
    .option('--progress', 'draw progress bars even when stderr is not a terminal')
    .addHelpText('after', `
Examples:
  $ blip2-progressive bench             # the full run (about 14 minutes on 2 cores the first time, 4 once data and pretraining are cached)
  $ blip2-progressive bench --quick     # every part, shrunken
  $ blip2-progressive bench --stage-seed 1   # same data and pretrained model, stages with another seed
  $ blip2-progressive bench --seeds 3 --pretrain-seeds 2   # 6 runs: each stage's gain as a 95 % interval
  $ blip2-progressive bench --train-views one-sided --scst-pool 0   # the design knobs (see the README)`)
    .action(async (flags: BenchFlags) => {
      const outDir = flags.out ?? join(benchHome(), flags.quick ? 'synth-quick' : 'synth');
      const draw = Boolean(process.stderr.isTTY) || flags.progress === true;
      const stages = draw ? trainProgress(process.stderr, streamLogger(process.stderr), { validationBars: flags.progress === true }) : undefined;
      const logger = stages?.logger ?? streamLogger(process.stderr);
      const bars = new Map<string, ProgressBar>();
      const bar = (key: string, total: number, label: string, unit: string) => {
        let b = bars.get(key);
        if (!b || b.total !== total) bars.set(key, (b = new ProgressBar(process.stderr, total, label, unit)));
        return b;
      };
      const started = Date.now();
      if (flags.stageSeed !== undefined && (flags.seeds !== undefined || flags.pretrainSeeds !== undefined)) {
        throw new UsageError('--stage-seed names one run; with --seeds the stage seeds are --seed, --seed + 1, … (leave out --stage-seed)');
      }
      if (flags.pretrainSeeds !== undefined && flags.seeds === undefined) {
        throw new UsageError('--pretrain-seeds needs --seeds K (stage seeds per pretrained model)');
      }
      const design: Partial<SynthBenchmarkDesign> = {
        ...(flags.trainViews !== undefined ? { trainViews: flags.trainViews } : {}),
        ...(flags.scstPool !== undefined ? { scstPool: flags.scstPool } : {}),
      };
      if (flags.seeds !== undefined) {
        const k = flags.seeds;
        const m = flags.pretrainSeeds ?? 2;
        // measured on 2 cores at full scale: pretraining ~7 min, a run ~4.2 min cached (its stages, SCST on its pool,
        // test scoring and curves; ~5.3 under VM contention); quick: seconds
        const [pretrainMin, runMin] = flags.quick ? [0.2, 0.3] : [7, 6];
        logger.info(`${k * m} runs (${k} stage seeds × ${m} pretrained models): up to ~${Math.ceil(m * pretrainMin + k * m * runMin)} minutes on 2 cores ` +
          'when nothing is cached yet (cached data, pretrained models and finished runs are reused)');
        const sweep = await runSynthBenchmarkSeeds({
          outDir, seed: flags.seed, stageSeeds: k, pretrainSeeds: m,
          scale: flags.quick ? QUICK_SCALE : FULL_SCALE, design,
          tokenizerDir: join(packageRoot(), 'data', 'tokenizer'),
          ...(flags.threads ? { threads: flags.threads } : {}),
          logger,
          onRun: (index, total, seeds) => logger.info(`run ${index} of ${total}: pretraining seed ${seeds.pretrainSeed}, stage seed ${seeds.stageSeed}`),
          onDataProgress: (done, total) => draw && bar('data', total, 'synthetic data', 'img').update(done),
          onPretrainStep: (step, total) => draw && bar('pretrain', total, 'pretraining', 'step').update(step),
          ...(stages ? { runEvents: stages.events } : {}),
        });
        stdout.write(`${sweep.markdown}
runs and statistics: ${sweep.resultsPath}
report: ${sweep.reportPath}
time: ${((Date.now() - started) / 60000).toFixed(1)} min
`);
        return;
      }
      const result = await runSynthBenchmark({
        outDir,
        seed: flags.seed,
        ...(flags.stageSeed !== undefined ? { stageSeed: flags.stageSeed } : {}),
        scale: flags.quick ? QUICK_SCALE : FULL_SCALE,
        design,
        tokenizerDir: join(packageRoot(), 'data', 'tokenizer'),
        ...(flags.threads ? { threads: flags.threads } : {}),
        logger,
        onDataProgress: (done, total) => draw && bar('data', total, 'synthetic data', 'img').update(done),
        onPretrainStep: (step, total) => draw && bar('pretrain', total, 'pretraining', 'step').update(step),
        onRobustness: (done, total) => draw && bar('robust', total, 'robustness', 'eval').update(done),
        ...(stages ? { runEvents: stages.events } : {}),
      });
      await setDefaultModel(result.pretrainedDir);
      const testImages = result.report.testImages;
      stdout.write(`test split (${testImages} held-out assistive images; each stage's model chosen on validation):\n` +
        `${resultsMarkdown(result.test)}\n${singleRunTable(result.test, result.val, result.noise?.labels)}\n` +
        `${result.noise ? `${result.noise.rule}\n` : 'no cross-seed reference for this scale and design: run bench --seeds K to measure the noise\n'}` +
        `results: ${result.resultsPath}\nreport: ${result.reportPath}\ndefault model: ${result.pretrainedDir}\n` +
        `time: ${((Date.now() - started) / 60000).toFixed(1)} min\n`);
    });
}

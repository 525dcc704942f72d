/**
 * Writes the synthetic dataset to disk as VizWiz-Captions annotation files plus PNG images, one folder
 * per domain:
 *
 * ```
 * <outDir>/manifest.json                    parameters, per-file hashes and one content hash
 * <outDir>/<domain>/annotations/<split>.json VizWiz-Captions format (5 captions per image)
 * <outDir>/<domain>/<split>/<file_name>.png  64×64 RGB
 * <outDir>/<domain>/scenes/<split>.jsonl     what each image shows (objects, word, camera, degradation)
 * ```
 *
 * The same parameters give byte-identical files. Generation is skipped when `outDir` already holds a
 * dataset with the same parameters (checked through the manifest), and the folder is replaced
 * atomically: everything is written to a temporary sibling folder that is renamed into place.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../io/worker-thread.js';
import { readJsonFile } from '../io/json.js';
import { integerInRange, invalidParameterError, isPlainObject, knownKeys, nonEmptyString, oneOf, optional } from '../is.js';
import { silentLogger, type Logger } from '../logger.js';
import { DOMAINS, type Domain } from './captions.js';
import { SPLITS, TRAIN_VIEWS, type Split, type TrainViews } from './sample.js';
import { runSynthTask, type SynthRecord, type SynthTask } from './task.js';
import type { SynthWorkerReply, SynthWorkerRequest } from './worker.js';

/** Bumped whenever a change to the generator changes its output, so cached datasets are regenerated. */
export const SYNTH_VERSION = 3;

/** Images per split of each domain. */
export interface SplitSizes {
  train: number;
  val: number;
  /** Held-out images for the reported numbers, apart from `val` (which early stopping and choices read). */
  test: number;
  /** A pool of training images for SCST, apart from `train`. */
  scst: number;
}

/**
 * Default sizes (the feasibility study's): 20,000 clean training images; 100 assistive training images, 1,000 for
 * validation and 1,000 for test; no SCST pool.
 */
export const DEFAULT_SYNTH_SIZES: Readonly<Record<Domain, Readonly<SplitSizes>>> = {
  clean: { train: 20000, val: 500, test: 0, scst: 0 },
  assistive: { train: 100, val: 1000, test: 1000, scst: 0 },
};

/** Largest split size accepted. */
export const MAX_SPLIT_SIZE = 10_000_000;

/** Progress of {@link generateSynthDataset}, reported after each batch of images. */
export interface SynthProgress {
  /** Images written so far, over all domains and splits. */
  done: number;
  total: number;
  /** The domain and split of the batch just finished. */
  domain: Domain;
  split: Split;
  elapsedSeconds: number;
}

/** Options of {@link generateSynthDataset}. */
export interface SynthDatasetOptions {
  /** Output folder; it is created, or replaced as a whole when it holds a dataset with other parameters. */
  outDir: string;
  /** Seed, an integer in [0, 2^32). Default 0. */
  seed?: number;
  /** Sizes of the clean splits; default `{ train: 20000, val: 500, test: 0, scst: 0 }`. */
  clean?: Partial<SplitSizes>;
  /** Sizes of the assistive splits; default `{ train: 100, val: 1000, test: 1000, scst: 0 }`. */
  assistive?: Partial<SplitSizes>;
  /** The assistive camera of training against held-out images ({@link TRAIN_VIEWS}); default `all`. */
  trainViews?: TrainViews;
  /** Worker threads, 0–64; 0 generates on the calling thread. Default `os.availableParallelism()`. */
  workers?: number;
  /** Receives a line when generation starts, is skipped and ends. Default silent. */
  logger?: Logger;
  /** Called after each batch of images. */
  onProgress?: (progress: SynthProgress) => void;
}

/** The parameters that determine a dataset's content. */
export interface SynthParameters {
  version: number;
  seed: number;
  clean: SplitSizes;
  assistive: SplitSizes;
  trainViews: TrainViews;
}

/** `manifest.json`: the parameters, hashes of the annotation and scene files, and a hash of all files. */
export interface SynthManifest {
  generator: 'blip2-progressive synthetic VizWiz-like captions';
  parameters: SynthParameters;
  /** sha256 of each annotation and scene file, by path relative to the dataset folder. */
  files: Record<string, string>;
  /** Number of images per `<domain>/<split>` folder. */
  images: Record<string, number>;
  /** sha256 over the sorted `path\tsha256` lines of every file (images included). */
  contentHash: string;
}

/** Where one domain's split lies on disk. */
export interface SynthSplitFiles {
  domain: Domain;
  split: Split;
  /** VizWiz-Captions annotation file: pass as `file` to `loadDataset`. */
  annotations: string;
  /** Folder of the images: pass as `imageRoot`. */
  imageRoot: string;
  /** JSON lines describing each image. */
  scenes: string;
  count: number;
}

/** Result of {@link generateSynthDataset}. */
export interface SynthDatasetResult {
  outDir: string;
  /** True when an existing dataset with the same parameters was kept. */
  skipped: boolean;
  manifest: SynthManifest;
  splits: SynthSplitFiles[];
  seconds: number;
}

const BATCH = 250;

/** The locations of every split of a dataset folder. */
export function synthSplitFiles(outDir: string, parameters: Pick<SynthParameters, 'clean' | 'assistive'>): SynthSplitFiles[] {
  return DOMAINS.flatMap((domain) =>
    SPLITS.map((split) => ({
      domain, split,
      annotations: join(outDir, domain, 'annotations', `${split}.json`),
      imageRoot: join(outDir, domain, split),
      scenes: join(outDir, domain, 'scenes', `${split}.jsonl`),
      count: parameters[domain][split],
    })),
  );
}

function resolveSizes(name: Domain, value: unknown): SplitSizes {
  const o = knownKeys(name, value, SPLITS);
  const sizes = { ...DEFAULT_SYNTH_SIZES[name] };
  for (const split of SPLITS) {
    if (o[split] !== undefined) sizes[split] = integerInRange(`${name}.${split}`, o[split], 0, MAX_SPLIT_SIZE);
  }
  return sizes;
}

function resolveOptions(options: unknown) {
  if (!isPlainObject(options)) throw invalidParameterError('options', 'plain object', options);
  const o = knownKeys('options', options, ['outDir', 'seed', 'clean', 'assistive', 'trainViews', 'workers', 'logger', 'onProgress']);
  const outDir = resolve(nonEmptyString('outDir', o.outDir));
  const seed = optional(o.seed, 0, (v) => integerInRange('seed', v, 0, 2 ** 32 - 1));
  const workers = optional(o.workers, availableParallelism(), (v) => integerInRange('workers', v, 0, 64));
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw invalidParameterError('onProgress', 'function', o.onProgress);
  if (o.logger !== undefined && typeof (o.logger as Partial<Logger> | null)?.info !== 'function') {
    throw invalidParameterError('logger', 'Logger', o.logger);
  }
  const parameters: SynthParameters = {
    version: SYNTH_VERSION, seed, clean: resolveSizes('clean', o.clean), assistive: resolveSizes('assistive', o.assistive),
    trainViews: optional(o.trainViews, 'all' as TrainViews, (v) => oneOf('trainViews', v, TRAIN_VIEWS)),
  };
  return {
    outDir, parameters, workers,
    logger: (o.logger as Logger | undefined) ?? silentLogger,
    onProgress: o.onProgress as ((p: SynthProgress) => void) | undefined,
  };
}

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/**
 * Generates the synthetic dataset (or keeps an identical existing one) and returns where its files are.
 * Deterministic: the same seed and sizes give byte-identical files, whatever the number of workers.
 */
export async function generateSynthDataset(options: SynthDatasetOptions): Promise<SynthDatasetResult> {
  const { outDir, parameters, workers, logger, onProgress } = resolveOptions(options);
  const started = performance.now();
  const splits = synthSplitFiles(outDir, parameters);
  const existing = await readExistingManifest(outDir, parameters);
  if (existing !== undefined) {
    logger.info(`Synthetic dataset in ${outDir} is up to date (seed ${parameters.seed}); skipping generation`);
    return { outDir, skipped: true, manifest: existing, splits, seconds: (performance.now() - started) / 1000 };
  }
  const total = splits.reduce((n, s) => n + s.count, 0);
  logger.info(`Generating ${total} synthetic images into ${outDir} (seed ${parameters.seed}, ${workers} worker threads)`);
  const tmpDir = join(dirname(outDir), `.${basename(outDir)}.tmp-${process.pid}-${Date.now().toString(36)}`);
  try {
    const tmpSplits = synthSplitFiles(tmpDir, parameters);
    for (const s of tmpSplits) {
      await mkdir(s.imageRoot, { recursive: true });
      await mkdir(dirname(s.annotations), { recursive: true });
      await mkdir(dirname(s.scenes), { recursive: true });
    }
    const tasks = tmpSplits.flatMap((s) => {
      const out: SynthTask[] = [];
      for (let start = 0; start < s.count; start += BATCH) {
        out.push({
          seed: parameters.seed, domain: s.domain, split: s.split, start, count: Math.min(BATCH, s.count - start), imageDir: s.imageRoot,
          trainViews: parameters.trainViews,
        });
      }
      return out;
    });
    let done = 0;
    const results = await runTasks(tasks, workers, (task) => {
      done += task.count;
      onProgress?.({ done, total, domain: task.domain, split: task.split, elapsedSeconds: (performance.now() - started) / 1000 });
    });
    const manifest = await writeAnnotations(tmpDir, parameters, tmpSplits, tasks, results);
    await replaceDirectory(tmpDir, outDir);
    const seconds = (performance.now() - started) / 1000;
    logger.info(`Wrote ${total} synthetic images in ${seconds.toFixed(1)} s (${(total / seconds).toFixed(0)} images/s)`);
    return { outDir, skipped: false, manifest, splits, seconds };
  } catch (error) {
    await rm(tmpDir, { recursive: true, force: true });
    throw error;
  }
}

/** VizWiz-Captions JSON for one split, and the scene lines. */
function annotationFile(domain: Domain, split: Split, parameters: SynthParameters, records: SynthRecord[]): { json: string; scenes: string } {
  const images = records.map((r) => ({ file_name: r.fileName, id: r.index, text_detected: r.textDetected }));
  const annotations = records.flatMap((r) =>
    r.captions.map((caption, k) => ({
      caption, image_id: r.index, is_precanned: false, is_rejected: false, id: r.index * r.captions.length + k, text_detected: r.textDetected,
    })),
  );
  const info = {
    description: `Synthetic VizWiz-like captions, ${domain} domain, ${split} split (blip2-progressive built-in dataset)`,
    version: String(parameters.version),
    seed: parameters.seed,
    domain,
    split,
  };
  const json = `${JSON.stringify({ info, images, annotations })}\n`;
  const scenes = records.map((r) => `${JSON.stringify({ image_id: r.index, file_name: r.fileName, ...r.meta })}\n`).join('');
  return { json, scenes };
}

async function writeAnnotations(
  dir: string,
  parameters: SynthParameters,
  splits: SynthSplitFiles[],
  tasks: SynthTask[],
  results: SynthRecord[][],
): Promise<SynthManifest> {
  const files: Record<string, string> = {};
  const images: Record<string, number> = {};
  const lines: string[] = [];
  for (const s of splits) {
    const records = tasks.flatMap((t, k) => (t.domain === s.domain && t.split === s.split ? results[k]! : []));
    const { json, scenes } = annotationFile(s.domain, s.split, parameters, records);
    await writeFile(s.annotations, json);
    await writeFile(s.scenes, scenes);
    const rel = (path: string) => path.slice(dir.length + 1).split('\\').join('/');
    files[rel(s.annotations)] = sha256(json);
    files[rel(s.scenes)] = sha256(scenes);
    images[`${s.domain}/${s.split}`] = records.length;
    for (const r of records) lines.push(`${s.domain}/${s.split}/${r.fileName}\t${r.sha256}`);
  }
  for (const [path, hash] of Object.entries(files)) lines.push(`${path}\t${hash}`);
  lines.sort();
  const manifest: SynthManifest = {
    generator: 'blip2-progressive synthetic VizWiz-like captions',
    parameters, files, images,
    contentHash: sha256(lines.map((l) => `${l}\n`).join('')),
  };
  await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** The manifest of `outDir` if it describes the same parameters and its files are intact; else undefined. */
async function readExistingManifest(outDir: string, parameters: SynthParameters): Promise<SynthManifest | undefined> {
  let manifest: SynthManifest;
  try {
    manifest = (await readJsonFile(join(outDir, 'manifest.json'), 'synthetic dataset manifest')) as SynthManifest;
  } catch {
    return undefined;
  }
  if (JSON.stringify(manifest.parameters) !== JSON.stringify(parameters)) return undefined;
  try {
    for (const [path, hash] of Object.entries(manifest.files)) {
      if (sha256(await readFile(join(outDir, path))) !== hash) return undefined;
    }
    for (const [folder, count] of Object.entries(manifest.images)) {
      const names = await readdir(join(outDir, folder));
      if (names.filter((n) => n.endsWith('.png')).length !== count) return undefined;
    }
  } catch {
    return undefined;
  }
  return manifest;
}

/** Moves `tmpDir` to `outDir`, replacing any previous folder there (renamed aside first, then removed). */
async function replaceDirectory(tmpDir: string, outDir: string): Promise<void> {
  const aside = join(dirname(outDir), `.${basename(outDir)}.old-${process.pid}-${Date.now().toString(36)}`);
  let movedAside = false;
  try {
    await rename(outDir, aside);
    movedAside = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  try {
    await rename(tmpDir, outDir);
  } catch (error) {
    if (movedAside) await rename(aside, outDir).catch(() => {});
    throw error;
  }
  if (movedAside) await rm(aside, { recursive: true, force: true });
}

/** Starts a worker on `worker.ts` (`worker.js` once compiled) beside this module. */
function startWorker(): Worker {
  return startModuleWorker(import.meta.url, 'worker');
}

/** Runs tasks on `workers` threads (or in-process for 0) and returns their results in task order. */
async function runTasks(tasks: SynthTask[], workers: number, onDone: (task: SynthTask) => void): Promise<SynthRecord[][]> {
  const results: SynthRecord[][] = new Array(tasks.length);
  if (workers === 0) {
    for (let k = 0; k < tasks.length; k++) {
      results[k] = await runSynthTask(tasks[k]!);
      onDone(tasks[k]!);
    }
    return results;
  }
  const threads = Array.from({ length: Math.min(workers, Math.max(1, tasks.length)) }, startWorker);
  let next = 0;
  try {
    await Promise.all(
      threads.map(
        (worker) =>
          new Promise<void>((resolveThread, rejectThread) => {
            const send = () => {
              if (next >= tasks.length) {
                resolveThread();
                return;
              }
              const id = next++;
              worker.postMessage({ id, task: tasks[id]! } satisfies SynthWorkerRequest);
            };
            worker.on('message', (reply: SynthWorkerReply) => {
              if (!reply.ok) {
                const error = new Error(`Synthetic dataset worker failed: ${reply.message}`);
                if (reply.stack !== undefined) error.stack = reply.stack;
                rejectThread(error);
                return;
              }
              results[reply.id] = reply.records;
              onDone(tasks[reply.id]!);
              send();
            });
            worker.on('error', (error) => rejectThread(new Error(`Synthetic dataset worker failed: ${error.message}`, { cause: error })));
            worker.on('exit', (code) => {
              if (next < tasks.length || code !== 0) rejectThread(new Error(`Synthetic dataset worker exited with code ${code}`));
            });
            send();
          }),
      ),
    );
  } finally {
    await Promise.all(threads.map((worker) => worker.terminate()));
  }
  return results;
}

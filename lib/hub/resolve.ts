/**
 * Model sources: a local directory, or a Hugging Face repo id resolved in huggingface_hub's own cache
 * (repo.ts), downloading the files the loaders need (files.ts) with @huggingface/hub.
 *
 * @huggingface/hub's `downloadFileToCacheDir` / `snapshotDownload` are not used: they write no `refs/`, cannot
 * resume, print with console.debug and name a snapshot by each file's last commit rather than the revision's
 * commit. Its `modelInfo`, `pathsInfo` and `downloadFile` (a Blob whose `slice(start)` is an HTTP Range request)
 * do all the HTTP here.
 */
import { downloadFile, HubApiError, modelInfo, pathsInfo, type PathInfo } from '@huggingface/hub';
import { copyFile, mkdir, readFile, rm, stat, symlink } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { boolean, invalidParameterError, knownKeys, nonEmptyString, optional } from '../is.js';
import { silentLogger, type Logger } from '../logger.js';
import { writeFileAtomic } from '../io/atomic.js';
import { readJsonFile } from '../io/json.js';
import { downloadBlob, type BlobTarget, type OpenRange } from './blob.js';
import { downloadTimeoutMs, hubCacheDir, hubEndpoint, hubToken, isOfflineEnv, metadataTimeoutMs } from './env.js';
import {
  configFiles, hasTokenizer, indexShards, REQUIRED_FILES, SAFETENSORS_INDEX, TOKENIZER_FILE_SETS, SAFETENSORS_SINGLE, weightsLayout,
} from './files.js';
import { withFileLock } from './lock.js';
import { isCommitHash, isRepoId, repoCachePaths, type RepoCachePaths } from './repo.js';
import { readRange, StallWatchdog } from './range.js';

/** Where a download stands; sent after every received chunk. */
export interface DownloadProgress {
  /** The repo id. */
  repoId: string;
  /** The file being fetched, as named in the repo. */
  file: string;
  /** Its position among the files this call fetches (0-based). */
  fileIndex: number;
  /** How many files this call fetches. */
  fileCount: number;
  /** Bytes of this file present so far (a resumed part included). */
  fileBytes: number;
  /** This file's size. */
  fileTotalBytes: number;
  /** Bytes of all fetched files so far. */
  bytes: number;
  /** The size of all files this call fetches. */
  totalBytes: number;
}

/** Where a model comes from, for every loader that takes a directory or a repo id. */
export interface ModelSourceOptions {
  /** Branch, tag or 40-hex commit of a repo id. Default "main". Ignored for a directory. */
  revision?: string;
  /** The hub cache folder. Default `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`. */
  cacheDir?: string;
  /** Never touch the network (also when `HF_HUB_OFFLINE` is 1/true/yes/on). Default false. */
  offline?: boolean;
  /** Download progress, per received chunk. */
  onProgress?: (progress: DownloadProgress) => void;
  /** Aborts a download (the partial file is kept and resumed next time). */
  signal?: AbortSignal;
}

/** Options of {@link resolveModel}. */
export interface ResolveModelOptions extends ModelSourceOptions {
  /** Receives what is downloaded, and a warning when an unreachable hub makes it fall back to the cache. */
  logger?: Logger;
}

/** The option names of {@link ModelSourceOptions}, for loaders that accept them among their own. */
export const MODEL_SOURCE_KEYS = ['revision', 'cacheDir', 'offline', 'onProgress', 'signal'] as const;

/** What {@link resolveModel} found. */
export interface ResolvedModel {
  /** The model directory to load: the given directory, or `<cache>/models--org--name/snapshots/<commit>`. */
  dir: string;
  /** 'directory': a local path; 'cache': the hub cache without asking the hub; 'hub': checked against the hub. */
  source: 'directory' | 'cache' | 'hub';
  repoId?: string;
  revision?: string;
  commit?: string;
  /** The repo files this call downloaded. */
  downloaded: string[];
}

interface Context {
  repoId: string;
  revision: string;
  label: string;
  paths: RepoCachePaths;
  cacheDirOption: string | undefined;
  logger: Logger;
  onProgress: ((progress: DownloadProgress) => void) | undefined;
  signal: AbortSignal | undefined;
}

interface HubClient {
  hubUrl: string;
  accessToken: string | undefined;
  /** fetch for metadata requests: the caller's signal and HF_HUB_ETAG_TIMEOUT. */
  metadataFetch: typeof fetch;
  /** fetch for downloads: the caller's signal and `extra` (a stall watchdog's). */
  downloadFetch: (extra: AbortSignal) => typeof fetch;
  downloadTimeoutMs: number;
}

function withSignals(...signals: (AbortSignal | undefined)[]): typeof fetch {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  return (input, init) => fetch(input, { ...init, signal: AbortSignal.any(present) });
}

/** The error of a file the cache lacks while offline. */
export class ModelNotCachedError extends Error {
  override name = 'ModelNotCachedError';
}

/** A branch, tag or commit: also a path under refs/, so it may not climb out of it. */
function revisionName(value: unknown): string {
  const revision = nonEmptyString('revision', value);
  if (revision.startsWith('/') || revision.includes('\\') || revision.split('/').some((part) => part === '..' || part === '.' || part === '')) {
    throw invalidParameterError('revision', 'branch, tag or commit hash', value);
  }
  return revision;
}

function readOptions(options: unknown) {
  const o = knownKeys('options', options, [...MODEL_SOURCE_KEYS, 'logger']);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw invalidParameterError('onProgress', 'function', o.onProgress);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw invalidParameterError('signal', 'AbortSignal', o.signal);
  return {
    revision: optional(o.revision, 'main', revisionName),
    cacheDir: optional(o.cacheDir, undefined, (v) => nonEmptyString('cacheDir', v)),
    offline: optional(o.offline, false, (v) => boolean('offline', v)),
    onProgress: o.onProgress as ModelSourceOptions['onProgress'],
    signal: o.signal as AbortSignal | undefined,
    logger: (o.logger as Logger | undefined) ?? silentLogger,
  };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** Whether `path` is a file, following symlinks (a link to a missing blob is no file). */
async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}

/**
 * Resolves a model directory or a Hugging Face repo id (`org/name`) to a local directory.
 *
 * - An existing path is used as it is, even when it is also spelled like a repo id; so is a string that is not a
 *   repo id (the loaders then report what is missing).
 * - A repo id goes to {@link resolveRepo}.
 */
export async function resolveModel(idOrDir: string, options?: ResolveModelOptions): Promise<ResolvedModel> {
  if (typeof idOrDir !== 'string' || idOrDir.length === 0) {
    throw invalidParameterError('model', 'model directory or Hugging Face repo id', idOrDir);
  }
  const o = readOptions(options);
  if ((await exists(idOrDir)) || !isRepoId(idOrDir)) return { dir: idOrDir, source: 'directory', downloaded: [] };
  return resolveRepoWith(idOrDir, o);
}

/**
 * Makes a Hugging Face model repo's loadable files present in the hub cache and returns its snapshot directory.
 *
 * - Offline (`offline: true` or `HF_HUB_OFFLINE`): `refs/<revision>` (unless the revision is a commit hash) and
 *   `snapshots/<commit>` must hold every needed file; otherwise a {@link ModelNotCachedError} names the file.
 * - Online: the hub gives the revision's commit and file list; missing files are downloaded into the cache and
 *   `refs/<revision>` is written for a branch or tag. When the hub cannot be reached or does not answer within
 *   `HF_HUB_ETAG_TIMEOUT` seconds, the cache is used as offline, with a warning; a download that receives nothing
 *   for `HF_HUB_DOWNLOAD_TIMEOUT` seconds stops, keeping its partial file (both default to 10, as in Python).
 */
export async function resolveRepo(repoId: string, options?: ResolveModelOptions): Promise<ResolvedModel> {
  if (typeof repoId !== 'string' || !isRepoId(repoId)) throw invalidParameterError('repoId', 'Hugging Face repo id (org/name)', repoId);
  return resolveRepoWith(repoId, readOptions(options));
}

async function resolveRepoWith(repoId: string, o: ReturnType<typeof readOptions>): Promise<ResolvedModel> {
  const ctx: Context = {
    repoId,
    revision: o.revision,
    label: `${repoId}@${o.revision}`,
    paths: repoCachePaths(hubCacheDir(o.cacheDir), repoId),
    cacheDirOption: o.cacheDir,
    logger: o.logger,
    onProgress: o.onProgress,
    signal: o.signal,
  };
  if (o.offline) return resolveFromCache(ctx, 'offline: true');
  if (isOfflineEnv()) return resolveFromCache(ctx, 'HF_HUB_OFFLINE is set');
  const signal = o.signal;
  const metadataMs = metadataTimeoutMs();
  const client: HubClient = {
    hubUrl: hubEndpoint(),
    accessToken: await hubToken(),
    metadataFetch: (input, init) => withSignals(signal, AbortSignal.timeout(metadataMs))(input, init),
    downloadFetch: (extra) => withSignals(signal, extra),
    downloadTimeoutMs: downloadTimeoutMs(),
  };
  return resolveOnline(ctx, client);
}

/** The {@link ModelSourceOptions} among a loader's options. */
export function sourceOptions(options: Record<string, unknown>): ModelSourceOptions {
  const out: Record<string, unknown> = {};
  for (const key of MODEL_SOURCE_KEYS) if (options[key] !== undefined) out[key] = options[key];
  return out as ModelSourceOptions;
}

function downloadCommand(ctx: Context): string {
  return `blip2-progressive download ${ctx.repoId}` +
    (ctx.revision === 'main' ? '' : ` --revision ${ctx.revision}`) +
    (ctx.cacheDirOption === undefined ? '' : ` --cache-dir ${ctx.cacheDirOption}`);
}

function notCached(ctx: Context, why: string, missing: string): ModelNotCachedError {
  return new ModelNotCachedError(
    `Cannot load ${ctx.label} without the hub (${why}): ${missing} is not in the Hugging Face cache ` +
      `${ctx.paths.cacheDir}. Run \`${downloadCommand(ctx)}\` while online`,
  );
}

/** The commit a revision names in the cache, or undefined when `refs/<revision>` is absent. */
async function cachedCommit(ctx: Context): Promise<string | undefined> {
  if (isCommitHash(ctx.revision)) return ctx.revision;
  const file = join(ctx.paths.refsDir, ctx.revision);
  try {
    const commit = (await readFile(file, 'utf8')).trim();
    if (!isCommitHash(commit)) throw new Error(`${file} holds no commit hash but ${JSON.stringify(commit.slice(0, 80))}`);
    return commit;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function resolveFromCache(ctx: Context, why: string): Promise<ResolvedModel> {
  const commit = await cachedCommit(ctx);
  if (commit === undefined) throw notCached(ctx, why, join(ctx.paths.refsDir, ctx.revision));
  const dir = join(ctx.paths.snapshotsDir, commit);
  for (const file of REQUIRED_FILES) {
    if (!(await isFile(join(dir, file)))) throw notCached(ctx, why, join(dir, file));
  }
  const present = new Set<string>();
  for (const file of TOKENIZER_FILE_SETS.flat()) if (await isFile(join(dir, file))) present.add(file);
  if (!hasTokenizer((f) => present.has(f))) throw notCached(ctx, why, join(dir, 'tokenizer.json'));
  const weights = new Set<string>();
  for (const file of [SAFETENSORS_INDEX, SAFETENSORS_SINGLE, 'pytorch_model.bin', 'pytorch_model.bin.index.json']) {
    if (await isFile(join(dir, file))) weights.add(file);
  }
  if (weights.size === 0) throw notCached(ctx, why, join(dir, SAFETENSORS_SINGLE));
  if (weightsLayout(weights, ctx.label, dir, ctx.repoId, ctx.revision) === 'index') {
    const indexFile = join(dir, SAFETENSORS_INDEX);
    for (const shard of indexShards(await readJsonFile(indexFile, 'safetensors index'), indexFile)) {
      if (!(await isFile(join(dir, shard)))) throw notCached(ctx, why, join(dir, shard));
    }
  }
  return { dir, source: 'cache', repoId: ctx.repoId, revision: ctx.revision, commit, downloaded: [] };
}

/**
 * fetch's own failure (refused, unresolvable, reset: undici's `TypeError: fetch failed`) or HF_HUB_ETAG_TIMEOUT
 * running out (a `TimeoutError`).
 */
function isNetworkError(err: unknown): boolean {
  return (err instanceof TypeError && err.message === 'fetch failed') || (err as Error | undefined)?.name === 'TimeoutError';
}

function hubError(ctx: Context, client: HubClient, err: HubApiError): Error {
  const access = [401, 403, 404].includes(err.statusCode)
    ? client.accessToken === undefined
      ? '. If the repo is private or gated, accept its terms on the Hub and set HF_TOKEN (or log in with `hf auth login`)'
      : '. Check that the repo exists and that your HF_TOKEN may read it'
    : '';
  return new Error(`Cannot get ${ctx.label} from ${client.hubUrl}: ${err.message}${access}`, { cause: err });
}

async function resolveOnline(ctx: Context, client: HubClient): Promise<ResolvedModel> {
  let info: { sha: string; filePaths: string[] };
  try {
    info = await modelInfo({
      name: ctx.repoId, revision: ctx.revision, hubUrl: client.hubUrl, accessToken: client.accessToken, fetch: client.metadataFetch,
      additionalFields: ['sha', 'filePaths'],
    });
  } catch (err) {
    if (err instanceof HubApiError) throw hubError(ctx, client, err);
    if (!isNetworkError(err) || ctx.signal?.aborted) throw err;
    const reason = `${client.hubUrl} cannot be reached: ${(err as Error).message}`;
    const cached = await resolveFromCache(ctx, reason);
    ctx.logger.warn(`${reason}; using the cached snapshot ${cached.dir}`);
    return cached;
  }
  const commit = info.sha;
  if (typeof commit !== 'string' || !isCommitHash(commit)) throw new Error(`The hub gave no commit hash for ${ctx.label}`);
  if (!isCommitHash(ctx.revision)) await writeRef(ctx.paths, ctx.revision, commit);
  const repoFiles = new Set(info.filePaths);
  const where = `${client.hubUrl}/${ctx.repoId} at ${commit}`;
  const layout = weightsLayout(repoFiles, ctx.label, where, ctx.repoId, ctx.revision);
  const wanted = configFiles(repoFiles, `${ctx.label} (${where})`);
  const dir = join(ctx.paths.snapshotsDir, commit);
  const downloaded: string[] = [];
  try {
    if (layout === 'index') {
      downloaded.push(...(await ensureFiles(ctx, client, commit, [SAFETENSORS_INDEX], false)));
      const indexFile = join(dir, SAFETENSORS_INDEX);
      const shards = indexShards(await readJsonFile(indexFile, 'safetensors index'), indexFile);
      const absent = shards.filter((s) => !repoFiles.has(s));
      if (absent.length > 0) throw new Error(`${ctx.label}: ${SAFETENSORS_INDEX} names shards the repo lacks: ${absent.join(', ')}`);
      wanted.push(...shards);
    } else {
      wanted.push(SAFETENSORS_SINGLE);
    }
    downloaded.push(...(await ensureFiles(ctx, client, commit, wanted, true)));
  } catch (err) {
    if (err instanceof HubApiError) throw hubError(ctx, client, err);
    throw err;
  }
  return { dir, source: 'hub', repoId: ctx.repoId, revision: ctx.revision, commit, downloaded };
}

/** `refs/<revision>` holds the commit, without a newline, as huggingface_hub writes it. */
async function writeRef(paths: RepoCachePaths, revision: string, commit: string): Promise<void> {
  const file = join(paths.refsDir, revision);
  const current = await readFile(file, 'utf8').catch(() => undefined);
  if (current === commit) return;
  await mkdir(dirname(file), { recursive: true });
  await writeFileAtomic(file, commit);
}

interface PlannedFile {
  file: string;
  target: BlobTarget;
}

function planFile(paths: RepoCachePaths, info: PathInfo | undefined, file: string, label: string): PlannedFile {
  if (info === undefined || info.type !== 'file' || info.oid === undefined) throw new Error(`${label} has no file ${file}`);
  const digest = info.lfs
    ? { algorithm: 'sha256' as const, hex: info.lfs.oid }
    : { algorithm: 'git-sha1' as const, hex: info.oid };
  return { file, target: { blobPath: join(paths.blobsDir, digest.hex), file, size: info.lfs?.size ?? info.size, digest } };
}

/**
 * Makes `snapshots/<commit>/<file>` present for every file: a link to an existing blob, or a download first.
 * Returns the files downloaded.
 */
async function ensureFiles(ctx: Context, client: HubClient, commit: string, files: string[], report: boolean): Promise<string[]> {
  const dir = join(ctx.paths.snapshotsDir, commit);
  const missing: string[] = [];
  for (const file of files) if (!(await isFile(join(dir, file)))) missing.push(file);
  if (missing.length === 0) return [];
  const infos = await pathsInfo({
    repo: { type: 'model', name: ctx.repoId }, paths: missing, revision: commit,
    hubUrl: client.hubUrl, accessToken: client.accessToken, fetch: client.metadataFetch,
  });
  const byPath = new Map(infos.map((i) => [i.path, i]));
  const planned = missing.map((f) => planFile(ctx.paths, byPath.get(f), f, ctx.label));
  const fetches: PlannedFile[] = [];
  for (const p of planned) {
    if (await isFile(p.target.blobPath)) await linkSnapshotFile(p.target.blobPath, join(dir, p.file));
    else fetches.push(p);
  }
  const totalBytes = fetches.reduce((n, p) => n + p.target.size, 0);
  if (fetches.length > 0) ctx.logger.info(`${ctx.label}: downloading ${fetches.length} files (${formatBytes(totalBytes)}) into ${dir}`);
  let before = 0;
  for (const [fileIndex, p] of fetches.entries()) {
    const progress = (fileBytes: number) => {
      if (!report || !ctx.onProgress) return;
      ctx.onProgress({
        repoId: ctx.repoId, file: p.file, fileIndex, fileCount: fetches.length,
        fileBytes, fileTotalBytes: p.target.size, bytes: before + fileBytes, totalBytes,
      });
    };
    const lock = join(ctx.paths.locksDir, `${p.target.digest.hex}.blip2-progressive.lock`);
    await withFileLock(lock, async () => {
      if (await isFile(p.target.blobPath)) return progress(p.target.size); // another process fetched it meanwhile
      await mkdir(ctx.paths.blobsDir, { recursive: true });
      await downloadBlob(p.target, openRange(ctx, client, commit, p.file), progress, ctx.signal);
    }, ctx.signal);
    await linkSnapshotFile(p.target.blobPath, join(dir, p.file));
    before += p.target.size;
  }
  return fetches.map((p) => p.file);
}

function openRange(ctx: Context, client: HubClient, commit: string, file: string): OpenRange {
  return async (start) => {
    let status = 0;
    const watchdog = new StallWatchdog(client.downloadTimeoutMs);
    const fetchWithSignals = client.downloadFetch(watchdog.signal);
    const recording: typeof fetch = async (input, init) => {
      const response = await fetchWithSignals(input, init);
      status = response.status;
      return response;
    };
    const blob = await watchdog.watch(() => downloadFile({
      repo: { type: 'model', name: ctx.repoId }, path: file, revision: commit,
      hubUrl: client.hubUrl, accessToken: client.accessToken, fetch: recording, xet: false,
    }));
    if (blob === null) throw new Error(`${ctx.label} has no file ${file} at ${commit}`);
    return readRange(start > 0 ? blob.slice(start) : blob, start, () => status, watchdog);
  };
}

/**
 * Links `snapshots/<commit>/<file>` to its blob with a relative symlink (`../../blobs/<etag>`), as
 * huggingface_hub does; where symlinks are not allowed, the blob is copied.
 */
async function linkSnapshotFile(blobPath: string, linkPath: string): Promise<void> {
  await mkdir(dirname(linkPath), { recursive: true });
  await rm(linkPath, { force: true });
  try {
    await symlink(relative(dirname(linkPath), blobPath), linkPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && (await isFile(linkPath))) return; // another process linked it
    if (code !== 'EPERM' && code !== 'ENOTSUP') throw err;
    await copyFile(blobPath, linkPath);
  }
}

function formatBytes(bytes: number): string {
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} kB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e9).toFixed(2)} GB`;
}

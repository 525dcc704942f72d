/**
 * The Hugging Face environment, read exactly as Python's huggingface_hub reads it (huggingface_hub/constants.py),
 * so that both share one cache, one token and one endpoint.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The variables these functions read; `process.env` by default (tests pass their own). */
export type HubEnv = Readonly<Record<string, string | undefined>>;

/** The hub Python and this library talk to when `HF_ENDPOINT` is unset. */
export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** `$HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`. */
export function hfHome(env: HubEnv = process.env): string {
  const home = nonEmpty(env.HF_HOME) ?? join(nonEmpty(env.XDG_CACHE_HOME) ?? join(homedir(), '.cache'), 'huggingface');
  return resolve(expandHome(home));
}

/**
 * The hub cache folder: `cacheDir` when given, else `$HF_HUB_CACHE` (or its old name `$HUGGINGFACE_HUB_CACHE`),
 * else `$HF_HOME/hub`, else `~/.cache/huggingface/hub` — Python's order.
 */
export function hubCacheDir(cacheDir?: string, env: HubEnv = process.env): string {
  const dir = nonEmpty(cacheDir) ?? nonEmpty(env.HF_HUB_CACHE) ?? nonEmpty(env.HUGGINGFACE_HUB_CACHE) ?? join(hfHome(env), 'hub');
  return resolve(expandHome(dir));
}

/** Python's `_is_true`: "1", "on", "yes", "true" in any case. */
function isTrue(value: string | undefined): boolean {
  return value !== undefined && ['1', 'ON', 'YES', 'TRUE'].includes(value.trim().toUpperCase());
}

/** Whether `HF_HUB_OFFLINE` (or transformers' `TRANSFORMERS_OFFLINE`) forbids the network. */
export function isOfflineEnv(env: HubEnv = process.env): boolean {
  return isTrue(env.HF_HUB_OFFLINE) || isTrue(env.TRANSFORMERS_OFFLINE);
}

/** `$HF_ENDPOINT` without a trailing slash, else https://huggingface.co. */
export function hubEndpoint(env: HubEnv = process.env): string {
  return (nonEmpty(env.HF_ENDPOINT) ?? DEFAULT_HUB_ENDPOINT).replace(/\/+$/, '');
}

/**
 * The access token: `$HF_TOKEN` (or the old `$HUGGING_FACE_HUB_TOKEN`), else the file `huggingface-cli login` /
 * `hf auth login` writes (`$HF_TOKEN_PATH`, default `$HF_HOME/token`). Undefined when there is none.
 */
export async function hubToken(env: HubEnv = process.env): Promise<string | undefined> {
  const fromEnv = nonEmpty(env.HF_TOKEN?.trim()) ?? nonEmpty(env.HUGGING_FACE_HUB_TOKEN?.trim());
  if (fromEnv !== undefined) return fromEnv;
  const file = resolve(expandHome(nonEmpty(env.HF_TOKEN_PATH) ?? join(hfHome(env), 'token')));
  try {
    return nonEmpty((await readFile(file, 'utf8')).trim());
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function seconds(value: string | undefined, fallback: number): number {
  const n = value === undefined || value.trim() === '' ? NaN : Number(value);
  return (Number.isFinite(n) && n > 0 ? n : fallback) * 1000;
}

/** How long a download may wait for data, in ms: `$HF_HUB_DOWNLOAD_TIMEOUT` seconds, default 10 as in Python. */
export function downloadTimeoutMs(env: HubEnv = process.env): number {
  return seconds(env.HF_HUB_DOWNLOAD_TIMEOUT, 10);
}

/** How long a metadata request (model info, paths info) may take, in ms: `$HF_HUB_ETAG_TIMEOUT` seconds, default 10. */
export function metadataTimeoutMs(env: HubEnv = process.env): number {
  return seconds(env.HF_HUB_ETAG_TIMEOUT, 10);
}

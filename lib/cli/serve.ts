/**
 * `blip2-progressive serve`: the demo page and HTTP API on localhost.
 *
 *   blip2-progressive serve --model ./blip2 --with-base --adapter lora=runs/x/stages/1-lora/best \
 *     --adapter runs/x/stages/3-scst/best
 */
import type { Command } from 'commander';
import { statSync } from 'node:fs';
import { streamLogger, type Logger } from '../logger.js';
import { resolveAdapterDirectory } from '../model/lora-config.js';
import { assertPortFree, isLoopbackAddress, PortInUseError } from '../serve/guards.js';
import { DEFAULT_LIMITS, type ServerLimits } from '../serve/limits.js';
import { duplicateName, modelDisplayName, serveAdapters, startServer, type ServeAdapter } from '../serve/server.js';
import { addModelFlags, modelFromFlags, type ModelFlags } from './model-flags.js';
import { parseIntegerFlag, parseNumberFlag, UsageError } from './usage.js';

interface ServeFlags extends ModelFlags {
  adapter: (string | ServeAdapter)[];
  withBase?: boolean;
  shareBase?: boolean;
  host: string;
  port: number;
  maxUploadMb?: number;
  maxPixels?: number;
  queue?: number;
  maxUploads?: number;
  maxConnections?: number;
  receiveTimeout?: number;
  timeout?: number;
  allowedHost: string[];
}

/** Resolves when the process gets SIGINT or SIGTERM. */
function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/**
 * One `--adapter` value: `name=dir` when an `=` comes before any path separator, else a directory (a directory whose
 * name holds such an `=` is written `./lr=1e-4/best`).
 */
export function parseAdapterFlag(value: string): string | ServeAdapter {
  const match = /^([^=/\\]*)=(.*)$/s.exec(value);
  if (match === null) return value;
  const [, name, dir] = match as unknown as [string, string, string];
  if (name.trim() === '' || dir === '') {
    throw new UsageError(`--adapter expects <dir> or <name>=<dir> but received ${JSON.stringify(value)}`);
  }
  return { name: name.trim(), dir };
}

/**
 * The adapters with their display names, checked before the port, the model and the adapters' weights: directories
 * that hold an adapter or a finished run (whose final best adapter is served), and names used once.
 */
async function checkAdapters(flags: ServeFlags): Promise<ServeAdapter[]> {
  const adapters = serveAdapters(flags.adapter);
  for (const { dir } of adapters) {
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
    } catch {
      // reported below
    }
    if (!isDir) throw new UsageError(`--adapter ${dir}: no such directory; pass a LoRA adapter directory (adapter_config.json and adapter_model.safetensors)`);
    await resolveAdapterDirectory(dir).catch((err: Error) => {
      throw new UsageError(`--adapter ${dir}: ${err.message}`);
    });
  }
  const twice = duplicateName(adapters.map((a) => a.name));
  if (twice !== undefined) throw new UsageError(`--adapter: two adapters are shown as ${JSON.stringify(twice)}; name them apart with --adapter <name>=<dir>`);
  return adapters;
}

/** With --with-base, the base model's name (known once its directory is) must differ from every adapter's. */
function checkBaseName(adapters: readonly ServeAdapter[], baseName: string): void {
  if (adapters.some((a) => a.name === baseName)) {
    throw new UsageError(`--with-base: the base model is shown as ${JSON.stringify(baseName)}, like an adapter; give that adapter another name with --adapter <name>=<dir>`);
  }
}

/** {@link assertPortFree} with the fix in flag terms. */
async function checkPort(host: string, port: number): Promise<void> {
  try {
    await assertPortFree(host, port);
  } catch (error) {
    if (!(error instanceof PortInUseError)) throw error;
    throw new Error(`Port ${port} on ${host} is already in use; stop the other server or pass another --port (--port 0 picks a free one)`, { cause: error });
  }
}

/** The limit flags as {@link ServerLimits} overrides. */
function limitsFromFlags(flags: ServeFlags): Partial<ServerLimits> {
  const limits: Partial<ServerLimits> = {};
  if (flags.maxUploadMb !== undefined) limits.uploadBytes = Math.round(flags.maxUploadMb * 2 ** 20);
  if (flags.maxPixels !== undefined) limits.maxPixels = flags.maxPixels;
  if (flags.queue !== undefined) limits.maxWaiting = flags.queue;
  if (flags.maxUploads !== undefined) limits.maxUploads = flags.maxUploads;
  if (flags.maxConnections !== undefined) limits.maxConnections = flags.maxConnections;
  if (flags.receiveTimeout !== undefined) limits.receiveTimeoutMs = Math.round(flags.receiveTimeout * 1000);
  if (flags.timeout !== undefined) limits.timeoutMs = Math.round(flags.timeout * 1000);
  return limits;
}

/**
 * Adds the `serve` command to the program. `waitForStop` decides when the server closes (default: on
 * SIGINT/SIGTERM); `logger` receives the address and load messages (default: stderr).
 */
export function register(program: Command, waitForStop: (url: string) => Promise<void> = untilSignal, logger: Logger = streamLogger(process.stderr)): void {
  const command = program
    .command('serve')
    .description('serve the captioning demo page and HTTP API (POST /api/caption, GET /api/health, GET /openapi.json)')
    .option('--adapter <[name=]dir>', 'LoRA adapter directory, or a finished training run\'s folder (its final stage\'s best adapter), shown as name ' +
      '(default: its stage or run folder, e.g. 1-lora for runs/x/stages/1-lora/best, mine for runs/mine); ' +
      'repeat for several (captions side by side, one model copy each)', (v: string, all: (string | ServeAdapter)[]) => [...all, parseAdapterFlag(v)], [])
    .option('--with-base', 'also caption with the base model (no adapter), shown first, beside the adapters (one more model copy without --share-base)')
    .option('--share-base', 'adapters (and the base model) share one copy of the base weights, swapped per caption (less memory, adapter reload per request)')
    .option('--host <address>', 'address to bind (anything but loopback exposes the demo to the network)', '127.0.0.1')
    .option('--port <n>', 'port (0: any free port)', parseIntegerFlag('--port', 0, 65535), 7860)
    .option('--max-upload-mb <x>', `largest upload in MiB (default ${DEFAULT_LIMITS.uploadBytes / 2 ** 20})`, parseNumberFlag('--max-upload-mb', 0.0001, 1024))
    .option('--max-pixels <n>', `largest image in pixels, from its header (default ${DEFAULT_LIMITS.maxPixels})`, parseIntegerFlag('--max-pixels', 1, Number.MAX_SAFE_INTEGER))
    .option('--queue <n>', `requests allowed to wait; more get 503 + Retry-After (default ${DEFAULT_LIMITS.maxWaiting})`, parseIntegerFlag('--queue', 0, 1 << 20))
    .option('--max-uploads <n>', `uploads received at once; more get 503 + Retry-After (default ${DEFAULT_LIMITS.maxUploads})`, parseIntegerFlag('--max-uploads', 1, 1 << 20))
    .option('--max-connections <n>', `open connections; more are closed (default ${DEFAULT_LIMITS.maxConnections})`, parseIntegerFlag('--max-connections', 1, 1 << 20))
    .option('--receive-timeout <seconds>', `time to receive a request; later gets 408 and the connection closes (default ${DEFAULT_LIMITS.receiveTimeoutMs / 1000})`, parseNumberFlag('--receive-timeout', 0.001, 3600))
    .option('--allowed-host <name>', 'Host name answered; repeat for several (default on loopback: localhost, 127.0.0.1, [::1]; others get 403)', (v: string, all: string[]) => [...all, v], [])
    .option('--timeout <seconds>', `deadline per caption request, queueing included; later gets 504 (default ${DEFAULT_LIMITS.timeoutMs / 1000})`, parseNumberFlag('--timeout', 0.001, 86400))
    .addHelpText('after', `
The page works offline (no CDN). Uploads are judged by their bytes (JPEG, PNG, GIF, WebP, TIFF, AVIF; SVG refused)
and kept in memory only. Stop with Ctrl-C.

Examples:
  $ blip2-progressive serve --model ./blip2-flan-t5-xl
  $ blip2-progressive serve --with-base --adapter mine=runs/mine      # the default model beside a finished run's best adapter
  $ blip2-progressive serve --model ./m --with-base --adapter runs/a/stages/1-lora/best --adapter scst=runs/a/stages/3-scst/best --port 8080
  $ curl -F image=@dog.jpg -F 'options={"numBeams":3,"numReturnSequences":2}' http://127.0.0.1:7860/api/caption
  $ curl -g --data-binary @dog.jpg -H 'content-type: image/jpeg' 'http://127.0.0.1:7860/api/caption?options={"maxNewTokens":20}'
(-g stops curl from reading the braces of a query string as a URL pattern.)`);
  addModelFlags(command).action(async (flags: ServeFlags) => {
    // before the model is found, downloaded or loaded: a bad adapter or a busy port is known in milliseconds
    const adapters = await checkAdapters(flags);
    await checkPort(flags.host, flags.port);
    const { dir, options } = await modelFromFlags(flags);
    if (flags.withBase === true) checkBaseName(adapters, modelDisplayName(dir));
    if (!isLoopbackAddress(flags.host)) logger.warn(`binding ${flags.host}: the demo is reachable from the network, without authentication`);
    const { app, url } = await startServer({
      modelDir: dir, adapters, withBase: flags.withBase === true, shareBase: flags.shareBase === true, loadOptions: options,
      host: flags.host, port: flags.port, limits: limitsFromFlags(flags), logger,
      ...(flags.allowedHost.length > 0 ? { allowedHosts: flags.allowedHost } : {}),
    });
    logger.info(`serving ${url} (API: ${url}api/caption, ${url}openapi.json); Ctrl-C stops`);
    try {
      await waitForStop(url);
    } finally {
      await app.close();
    }
  });
}

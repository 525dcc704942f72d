/**
 * `blip2-progressive serve`: the demo page and HTTP API on localhost.
 *
 *   blip2-progressive serve --model ./blip2 --adapter runs/x/stages/1-lora/best --adapter runs/x/stages/3-scst/best
 */
import type { Command } from 'commander';
import { streamLogger, type Logger } from '../logger.js';
import { assertPortFree, isLoopbackAddress } from '../serve/guards.js';
import { DEFAULT_LIMITS, startServer, type ServerLimits } from '../serve/server.js';
import { addModelFlags, modelFromFlags, type ModelFlags } from './model-flags.js';
import { parseIntegerFlag, parseNumberFlag } from './usage.js';

interface ServeFlags extends ModelFlags {
  adapter: string[];
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
    .option('--adapter <dir>', 'LoRA adapter directory; repeat for several (captions side by side, one model copy each)', (v: string, all: string[]) => [...all, v], [])
    .option('--share-base', 'adapters share one copy of the base weights, swapped per caption (less memory, adapter reload per request)')
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
  $ blip2-progressive serve --model ./m --adapter runs/a/stages/1-lora/best --adapter runs/a/stages/3-scst/best --port 8080
  $ curl -F image=@dog.jpg -F 'options={"numBeams":3}' http://127.0.0.1:7860/api/caption
  $ curl --data-binary @dog.jpg -H 'content-type: image/jpeg' 'http://127.0.0.1:7860/api/caption?options={"maxNewTokens":20}'`);
  addModelFlags(command).action(async (flags: ServeFlags) => {
    // before the model is found, downloaded or loaded: a busy port is known in milliseconds
    await assertPortFree(flags.host, flags.port);
    const { dir, options } = await modelFromFlags(flags);
    if (!isLoopbackAddress(flags.host)) logger.warn(`binding ${flags.host}: the demo is reachable from the network, without authentication`);
    const { app, url } = await startServer({
      modelDir: dir, adapters: flags.adapter, shareBase: flags.shareBase === true, loadOptions: options, host: flags.host, port: flags.port, limits: limitsFromFlags(flags), logger,
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

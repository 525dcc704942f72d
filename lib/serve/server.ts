/**
 * The demo server: `POST /api/caption`, `GET /api/health`, `GET /openapi.json` and the page at `/`, on fastify.
 * Uploads are sniffed from their bytes, decoded in memory (no request value is ever used as a path), captioned
 * through a bounded queue with a deadline, and every refusal is a JSON error with the right status code.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { basename } from 'node:path';
import { snapshotRepoId } from '../hub/repo.js';
import { Blip2Captioner } from '../captioner.js';
import type { Caption, CaptionOptions } from '../generation/caption.js';
import { ImageLoadError, loadImage, type ImageInput } from '../image/decode.js';
import { boolean, integerInRange, invalidParameterError, knownKeys, nonEmptyString, optional } from '../is.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import type { ModelLoadOptions } from '../model/blip2-model.js';
import { openApiDocument } from './openapi.js';
import { ClientClosedError, HttpError, sendError } from './errors.js';
import { ArgumentError } from '../errors.js';
import { assertPortFree, connectionTimeouts, installGuards, isLoopbackAddress, LOOPBACK_HOST_NAMES } from './guards.js';
import { resolveLimits, type ServerLimits } from './limits.js';
import { parseOptionsJson, validateApiOptions } from './options.js';
import { renderPage } from './page.js';
import { QueueFullError, QueueTimeoutError, WorkQueue } from './queue.js';
import { sniffImage, UnsupportedMediaError } from './sniff.js';

/**
 * What the server needs from a captioner (a {@link Blip2Captioner} satisfies it). The server passes a `signal` that
 * aborts when the client disconnects or the deadline passes; a captioner should stop soon after (the queue slot
 * stays taken until it does).
 */
export interface CaptionerLike {
  caption(images: readonly ImageInput[], options?: CaptionOptions): Promise<(Caption | Caption[])[]>;
}

/** One model served: its display name and captioner. */
export interface ServeModel {
  name: string;
  captioner: CaptionerLike;
}

/** Options of {@link createServer}. */
export interface CreateServerOptions {
  /** Models to serve, captioned side by side. Or give `modelDir` (and `adapters`) to load them. */
  models?: ServeModel[];
  /** A BLIP-2 model directory to load (when `models` is not given). */
  modelDir?: string;
  /**
   * LoRA adapters, directories or `{ name, dir }`: one captioner per adapter, each loading `modelDir` once (see
   * `shareBase`; names as in {@link LoadServeModelsOptions.adapters}).
   */
  adapters?: (string | ServeAdapter)[];
  /** Also caption with the base model, shown first (see {@link LoadServeModelsOptions.withBase}). */
  withBase?: boolean;
  /**
   * Adapters share one copy of the base weights, swapped per caption (see {@link LoadServeModelsOptions.shareBase}).
   */
  shareBase?: boolean;
  /** Load options of the model (device, dtype, threads). */
  loadOptions?: ModelLoadOptions;
  /** Overrides of the default limits ({@link resolveLimits}). */
  limits?: Partial<ServerLimits>;
  /** Receives load messages and unexpected errors. Default silent. */
  logger?: Logger;
  /** Address for {@link startServer}. Default 127.0.0.1 (localhost only). */
  host?: string;
  /**
   * Host names answered (with the server's port or none); other Host headers get 403. Default: on a loopback
   * `host`, localhost, 127.0.0.1 and [::1] (a web page on another name cannot reach the demo by DNS rebinding);
   * on any other `host`, every name.
   */
  allowedHosts?: string[];
  /** Port for {@link startServer}. Default 7860; 0 picks a free port. */
  port?: number;
  /**
   * Awaited at the start of every caption job, inside the queue slot. For tests and load experiments: a
   * promise the caller resolves makes a caption "in flight" for exactly as long as it wants.
   */
  beforeCaption?: (signal: AbortSignal) => Promise<void>;
}

/** One generated sequence in the API's answer. */
export interface ApiSequence {
  text: string;
  tokenIds: number[];
  score: number;
}

/** One model's caption in the API's answer: its best sequence, and all of them when more than one was asked for. */
export interface ApiCaption extends ApiSequence {
  /** The model (or adapter) that wrote it. */
  model: string;
  /** With numReturnSequences > 1: every sequence, best first (the first equals text, tokenIds and score). */
  sequences?: ApiSequence[];
}

/** The answer of `POST /api/caption`. */
export interface CaptionResponse {
  captions: ApiCaption[];
  timings: {
    /** Decoding and checking the upload (sniffing, header, pixel limit, RGB conversion). */
    preprocessMs: number;
    /** Resizing, normalising and generating, for all models. */
    generateMs: number;
    /** From the request's arrival to the answer, queueing included. */
    totalMs: number;
  };
}

const SERVER_KEYS = ['models', 'modelDir', 'adapters', 'withBase', 'shareBase', 'loadOptions', 'limits', 'logger', 'host', 'allowedHosts', 'port', 'beforeCaption'] as const;

export { HttpError };

/** An adapter to serve under a display name. */
export interface ServeAdapter {
  /** Shown on the page and in the API's `model` field. */
  name: string;
  /** The LoRA adapter directory (as {@link Blip2Model.loadAdapter} reads it). */
  dir: string;
}

/** The display name of a model directory: its hub repo id for a snapshot, else its last path part. */
export function modelDisplayName(modelDir: string): string {
  return snapshotRepoId(modelDir) ?? (basename(modelDir.replace(/[\\/]+$/, '')) || modelDir);
}

/**
 * Path parts that say nothing about an adapter: a run's `stages` folder, and the `best` or `final` folder at the end.
 */
const GENERIC_FOLDERS = { anywhere: ['stages', '.'], last: ['best', 'final'] };

/**
 * Display names for adapter directories: the shortest run of their last meaningful path parts that tells them apart
 * (`runs/a/stages/1-lora/best` → `1-lora`; with `runs/b/stages/1-lora/best` beside it, `a/1-lora` and `b/1-lora`),
 * or the path as given when nothing does.
 */
export function adapterNames(dirs: readonly string[]): string[] {
  const parts = dirs.map((dir) => {
    const all = dir.split(/[\\/]+/).filter((p) => p !== '' && !GENERIC_FOLDERS.anywhere.includes(p));
    const meaningful = all.length > 1 && GENERIC_FOLDERS.last.includes(all.at(-1)!) ? all.slice(0, -1) : all;
    return meaningful.length > 0 ? meaningful : [dir];
  });
  const suffix = (i: number, k: number) => parts[i]!.slice(-k).join('/');
  return dirs.map((dir, i) => {
    for (let k = 1; k <= parts[i]!.length; k++) {
      const name = suffix(i, k);
      if (parts.every((_, j) => j === i || suffix(j, k) !== name)) return name;
    }
    return dir;
  });
}

/** The first name given twice, or undefined. */
export function duplicateName(names: readonly string[]): string | undefined {
  return names.find((name, i) => names.indexOf(name) !== i);
}

/** Adapters as {@link ServeAdapter}s: directories given alone get their {@link adapterNames}. */
export function serveAdapters(adapters: readonly (string | ServeAdapter)[]): ServeAdapter[] {
  const defaults = adapterNames(adapters.map((a) => (typeof a === 'string' ? a : a.dir)));
  return adapters.map((a, i) => (typeof a === 'string' ? { name: defaults[i]!, dir: a } : { name: a.name, dir: a.dir }));
}

/** Validates {@link LoadServeModelsOptions.adapters} entries (paths, or `{ name, dir }` with names used once). */
function validateAdapters(adapters: unknown): void {
  if (adapters === undefined) return;
  if (!Array.isArray(adapters)) throw invalidParameterError('adapters', 'array of adapter directories or { name, dir }', adapters);
  adapters.forEach((a: unknown, i) => {
    if (typeof a === 'string' && a.length > 0) return;
    const o = knownKeys(`adapters[${i}]`, a, ['name', 'dir']);
    nonEmptyString(`adapters[${i}].name`, o.name);
    nonEmptyString(`adapters[${i}].dir`, o.dir);
  });
}

/** Options of {@link loadServeModels}. */
export interface LoadServeModelsOptions {
  /** The BLIP-2 model directory. */
  modelDir: string;
  /**
   * LoRA adapters (none: the model alone): directories, named by {@link adapterNames}, or `{ name, dir }`. Names must
   * differ from each other and from the base model's ({@link modelDisplayName}).
   */
  adapters?: readonly (string | ServeAdapter)[];
  /**
   * Also caption with the base model, without adapters, shown first under its {@link modelDisplayName}. Default false.
   */
  withBase?: boolean;
  /** Load options of the model (device, dtype, threads). */
  loadOptions?: ModelLoadOptions;
  /**
   * Several adapters (and the base model with `withBase`) on one copy of the base weights, swapped in (read from
   * disk again) before each adapter's caption. Saves a full model copy per extra adapter at the cost of reloading the
   * adapter weights per request. Needs captions run one at a time (concurrency 1). Default false: one model copy per
   * adapter, and one more for the base model.
   */
  shareBase?: boolean;
  /** Receives load messages. Default silent. */
  logger?: Logger;
}

/** What is served, in order, with its adapter directory (undefined: the base model); names checked before loading. */
function servePlan(options: LoadServeModelsOptions): { name: string; dir: string | undefined }[] {
  validateAdapters(options.adapters);
  const adapters = serveAdapters(options.adapters ?? []);
  const base = adapters.length === 0 || options.withBase === true ? [{ name: modelDisplayName(options.modelDir), dir: undefined }] : [];
  const plan = [...base, ...adapters];
  const twice = duplicateName(plan.map((m) => m.name));
  if (twice !== undefined) {
    throw new ArgumentError(`Two models are named ${JSON.stringify(twice)}; give each adapter its own name ({ name, dir } in adapters)`, { argument: 'adapters' });
  }
  return plan;
}

/**
 * Loads the captioners to serve: the model alone, or one captioner per adapter, optionally the base model first
 * (by default each adapter gets its own copy of the base weights, so memory grows with the number of adapters; see
 * `shareBase`).
 */
export async function loadServeModels(options: LoadServeModelsOptions): Promise<{ models: ServeModel[]; dispose: () => void }> {
  const { modelDir, loadOptions = {}, shareBase = false, logger = silentLogger } = options;
  const plan = servePlan(options);
  const loaded: Blip2Captioner[] = [];
  const dispose = () => loaded.forEach((c) => c.dispose());
  const load = async () => {
    const captioner = await Blip2Captioner.fromPretrained(modelDir, { ...loadOptions, logger });
    loaded.push(captioner);
    return captioner;
  };
  const adapterLine = (name: string, dir: string, modules: number) => `adapter ${dir}: ${modules} LoRA modules, served as ${JSON.stringify(name)}`;
  try {
    if (shareBase) {
      const base = await load();
      let current: string | undefined;
      const swapTo = async (dir: string | undefined) => {
        if (current === dir) return undefined;
        if (current !== undefined) await base.model.removeLora();
        current = undefined;
        const summary = dir === undefined ? undefined : await base.model.loadAdapter(dir);
        current = dir;
        return summary;
      };
      for (const { name, dir } of plan) { // checks every adapter at start-up
        const summary = await swapTo(dir);
        if (summary !== undefined) logger.info(adapterLine(name, dir!, summary.modules));
      }
      logger.info(`${plan.length} models share one copy of ${modelDir}, adapters swapped per caption`);
      const models = plan.map(({ name, dir }) => ({
        name,
        captioner: { caption: async (images: readonly ImageInput[], o?: CaptionOptions & { onError?: 'throw' }) => { await swapTo(dir); return base.caption(images, o); } },
      }));
      return { models, dispose };
    }
    const models: ServeModel[] = [];
    for (const { name, dir } of plan) {
      const captioner = await load();
      if (dir !== undefined) logger.info(adapterLine(name, dir, (await captioner.model.loadAdapter(dir)).modules));
      models.push({ name, captioner });
    }
    return { models, dispose };
  } catch (error) {
    dispose();
    throw error;
  }
}

const MULTIPART_LIMITS = { files: 1, fields: 4, parts: 6, fieldSize: 64 * 1024 } as const;

/** Maps any failure of a request to its status, message and headers. */
function classify(error: unknown, limits: ServerLimits): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof QueueFullError) return new HttpError(503, error.message, { 'retry-after': String(error.retryAfterSeconds) });
  if (error instanceof QueueTimeoutError) return new HttpError(504, error.message);
  if (error instanceof ClientClosedError) return new HttpError(499, error.message);
  if (error instanceof UnsupportedMediaError) return new HttpError(415, error.message);
  if (error instanceof ImageLoadError) {
    const reason = `The image cannot be used: ${error.reason}`;
    if (error.code === 'TOO_MANY_PIXELS') return new HttpError(413, reason);
    if (error.code === 'UNSUPPORTED_FORMAT' || error.code === 'SVG_REFUSED') return new HttpError(415, reason);
    return new HttpError(422, reason);
  }
  if (error instanceof TypeError) return new HttpError(400, error.message);
  const code = (error as { code?: unknown }).code;
  if (code === 'FST_FILES_LIMIT' || code === 'FST_FIELDS_LIMIT' || code === 'FST_PARTS_LIMIT') {
    return new HttpError(400, `Too many multipart parts (at most one file and ${MULTIPART_LIMITS.fields} fields); send one file field "image" and optionally a field "options" (JSON)`);
  }
  if (code === 'FST_REQ_FILE_TOO_LARGE' || code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new HttpError(413, `The upload is larger than the limit of ${limits.uploadBytes} bytes`);
  }
  const status = (error as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return new HttpError(status, (error as Error).message);
  return new HttpError(500, 'Internal error while captioning (see the server log)');
}

/** The image bytes and option text of a multipart request (field `image`, optional field `options`). */
async function readMultipart(request: FastifyRequest): Promise<{ bytes: Buffer; optionsText: string | undefined }> {
  let bytes: Buffer | undefined;
  let optionsText: string | undefined;
  const unexpected: string[] = [];
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      const data = await part.toBuffer();
      if (part.fieldname === 'image' && bytes === undefined) bytes = data;
      else unexpected.push(part.fieldname);
    } else if (part.fieldname === 'options' && optionsText === undefined) {
      optionsText = String(part.value);
    } else {
      unexpected.push(part.fieldname);
    }
  }
  if (unexpected.length > 0) {
    throw new HttpError(400, `Unexpected multipart field ${JSON.stringify(unexpected[0])}; send one file field "image" and optionally a field "options" (JSON)`);
  }
  if (bytes === undefined) throw new HttpError(400, 'The multipart request has no file field "image"');
  return { bytes, optionsText };
}

/** The image bytes and option text of a request (multipart, or a raw body with options in the query or a header). */
async function readCaptionRequest(request: FastifyRequest): Promise<{ bytes: Buffer; optionsText: string | undefined; source: string }> {
  if (request.isMultipart()) return { ...(await readMultipart(request)), source: 'the options field' };
  const body = request.body;
  if (!Buffer.isBuffer(body)) {
    throw new UnsupportedMediaError('Send multipart/form-data with a file field "image", or the raw image bytes as the request body');
  }
  const query = request.query as Record<string, unknown>;
  const header = request.headers['x-caption-options'];
  if (typeof query.options === 'string') return { bytes: body, optionsText: query.options, source: 'the options query parameter' };
  if (typeof header === 'string') return { bytes: body, optionsText: header, source: 'the X-Caption-Options header' };
  return { bytes: body, optionsText: undefined, source: '' };
}

function validateServerOptions(options: CreateServerOptions): void {
  knownKeys('options', options, SERVER_KEYS);
  if (options.models !== undefined) {
    if (!Array.isArray(options.models) || options.models.length === 0) throw invalidParameterError('models', 'non-empty array of { name, captioner }', options.models);
    options.models.forEach((m, i) => {
      knownKeys(`models[${i}]`, m, ['name', 'captioner']);
      if (typeof m.name !== 'string' || m.name.length === 0) throw invalidParameterError(`models[${i}].name`, 'non-empty string', m.name);
      if (typeof m.captioner?.caption !== 'function') throw invalidParameterError(`models[${i}].captioner`, 'captioner with a caption() method', m.captioner);
    });
    const twice = duplicateName(options.models.map((m) => m.name));
    if (twice !== undefined) throw new ArgumentError(`Two models are named ${JSON.stringify(twice)}; give each its own name`, { argument: 'models' });
  } else if (typeof options.modelDir !== 'string' || options.modelDir.length === 0) {
    throw invalidParameterError('modelDir', 'non-empty string (or give models)', options.modelDir);
  }
  if (options.shareBase !== undefined) boolean('shareBase', options.shareBase);
  if (options.withBase !== undefined) boolean('withBase', options.withBase);
  if (options.shareBase === true && (options.limits?.concurrency ?? 1) !== 1) {
    throw new ArgumentError('shareBase swaps adapters on one model, so it needs limits.concurrency 1', { argument: 'shareBase' });
  }
  if (options.beforeCaption !== undefined && typeof options.beforeCaption !== 'function') throw invalidParameterError('beforeCaption', 'function', options.beforeCaption);
  const hosts = options.allowedHosts;
  if (hosts !== undefined && (!Array.isArray(hosts) || !hosts.every((h) => typeof h === 'string' && h.length > 0))) {
    throw invalidParameterError('allowedHosts', 'array of host names', hosts);
  }
}

/** The Host names answered: as given, else the loopback names on a loopback binding, else all (undefined). */
function hostNames(options: CreateServerOptions): readonly string[] | undefined {
  if (options.allowedHosts) return options.allowedHosts.map((h) => h.toLowerCase());
  return isLoopbackAddress(options.host ?? '127.0.0.1') ? LOOPBACK_HOST_NAMES : undefined;
}

/**
 * The web framework, loaded on first use: fastify and @fastify/multipart are optional peer dependencies, so that an
 * app that only captions does not install a web server. Their absence is an error that names the install command.
 */
async function serverModules() {
  try {
    const [fastify, multipart] = await Promise.all([import('fastify'), import('@fastify/multipart')]);
    return { Fastify: fastify.default, multipart: multipart.default };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new Error(`The demo server needs fastify and @fastify/multipart, which are optional: npm install fastify@5 @fastify/multipart@9 (${(err as Error).message})`, { cause: err });
  }
}

/** A signal that aborts when the client hangs up before its answer is sent. */
function clientGone(request: FastifyRequest, reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableFinished) controller.abort(new ClientClosedError());
  };
  if (request.raw.socket?.destroyed) onClose();
  else reply.raw.once('close', onClose);
  return controller.signal;
}

/**
 * Builds the demo server (not listening yet: call `app.listen`, or use `app.inject` in tests, or
 * {@link startServer}). Models loaded from `modelDir` are disposed when the app closes; given `models` are not.
 */
export async function createServer(options: CreateServerOptions): Promise<FastifyInstance> {
  validateServerOptions(options);
  const { Fastify, multipart } = await serverModules();
  const limits = resolveLimits(options.limits);
  const logger = options.logger ?? silentLogger;
  const loaded = options.models
    ? { models: options.models, dispose: () => {} }
    : await loadServeModels({
        modelDir: options.modelDir!, adapters: options.adapters ?? [], withBase: options.withBase ?? false, loadOptions: options.loadOptions ?? {}, shareBase: options.shareBase ?? false, logger,
      });
  const { models } = loaded;
  const queue = new WorkQueue({ concurrency: limits.concurrency, maxWaiting: limits.maxWaiting });
  const { requestTimeout, ...http } = connectionTimeouts(limits.receiveTimeoutMs);
  // idle keep-alive connections are closed after 5 s so that they do not hold connection slots
  const app = Fastify({ logger: false, bodyLimit: limits.uploadBytes, requestTimeout, keepAliveTimeout: 5000, http });
  const guards = installGuards(app, {
    limits, queue, allowedHosts: hostNames(options), logger, uploadRoute: { method: 'POST', url: '/api/caption' },
  });
  app.addHook('onClose', async () => loaded.dispose());
  app.addHook('onSend', async (_request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
  });
  // Every body but multipart is read as bytes and judged by sniffing, whatever its Content-Type says.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limits.uploadBytes }, (_request, body, done) => done(null, body));
  await app.register(multipart, { limits: { fileSize: limits.uploadBytes, ...MULTIPART_LIMITS } });

  app.setErrorHandler((error, request, reply) => {
    const refusal = classify(error, limits);
    // expected refusals (busy, late, client gone) get one line; anything else its stack
    const detail = refusal.statusCode === 500 && error instanceof Error ? error.stack ?? error.message : refusal.message;
    if (refusal.statusCode >= 499) logger.warn(`${request.method} ${request.url.split('?')[0]} → ${refusal.statusCode}: ${detail}`);
    return sendError(reply, refusal);
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, new HttpError(404, `No route ${request.method} ${request.url.split('?')[0]}`)));

  const captionJob = async (bytes: Buffer, captionOptions: CaptionOptions, signal: AbortSignal) => {
    await options.beforeCaption?.(signal);
    signal.throwIfAborted();
    const t0 = performance.now();
    const image = await loadImage(bytes, { limitInputPixels: limits.maxPixels, allowSvg: false });
    const t1 = performance.now();
    const captions: ApiCaption[] = [];
    for (const model of models) {
      signal.throwIfAborted();
      const [result] = await model.captioner.caption([image], { ...captionOptions, signal });
      const sequences = (Array.isArray(result) ? result : [result!]).map(({ text, tokenIds, score }) => ({ text, tokenIds, score }));
      captions.push({ model: model.name, ...sequences[0]!, ...(sequences.length > 1 ? { sequences } : {}) });
    }
    return { captions, preprocessMs: t1 - t0, generateMs: performance.now() - t1 };
  };

  app.post('/api/caption', async (request, reply): Promise<CaptionResponse> => {
    const arrived = performance.now();
    const { bytes, optionsText, source } = await readCaptionRequest(request);
    const captionOptions = validateApiOptions(optional(optionsText, undefined, (text) => parseOptionsJson(text, source)), limits.options);
    sniffImage(bytes);
    const done = await queue.run((signal) => captionJob(bytes, captionOptions, signal), limits.timeoutMs, clientGone(request, reply));
    reply.header('cache-control', 'no-store');
    const round = (ms: number) => Math.round(ms * 100) / 100;
    return {
      captions: done.captions,
      timings: { preprocessMs: round(done.preprocessMs), generateMs: round(done.generateMs), totalMs: round(performance.now() - arrived) },
    };
  });

  app.get('/api/health', async () => ({ status: 'ok', models: models.map((m) => m.name), queue: queue.stats, uploads: guards.uploads }));
  app.get('/openapi.json', async () => openApiDocument(models.map((m) => m.name), limits));
  const page = renderPage({ models: models.map((m) => m.name), limits });
  app.get('/', async (_request, reply) => reply
    .type('text/html; charset=utf-8')
    .header('content-security-policy', "default-src 'none'; img-src blob: data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
    .send(page));
  return app;
}

/**
 * Creates the server and listens on `host` (default 127.0.0.1) and `port` (default 7860); returns the app and its URL.
 */
export async function startServer(options: CreateServerOptions): Promise<{ app: FastifyInstance; url: string }> {
  const host = options.host ?? '127.0.0.1';
  const port = optional(options.port, 7860, (v) => integerInRange('port', v, 0, 65535));
  await assertPortFree(host, port);
  const app = await createServer(options);
  try {
    await app.listen({ host, port });
    const address = app.server.address();
    const bound = typeof address === 'object' && address !== null ? address.port : port;
    const shownHost = host.includes(':') ? `[${host}]` : host;
    return { app, url: `http://${shownHost}:${bound}/` };
  } catch (error) {
    await app.close();
    throw error;
  }
}

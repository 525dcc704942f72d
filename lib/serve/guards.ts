/**
 * What the demo server checks before it reads a request's body, so that memory follows the limits rather than the
 * number of open uploads: the Host name (DNS rebinding), early refusal while the queue is full or too many uploads
 * are being received, a deadline on receiving the request, and a bound on open connections. Also the port check
 * that runs before a model is loaded.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createServer as createNetServer } from 'node:net';
import type { Logger } from '../logger.js';
import { HttpError, sendError } from './errors.js';
import type { WorkQueue } from './queue.js';

/** Host names a loopback server answers by default. */
export const LOOPBACK_HOST_NAMES: readonly string[] = Object.freeze(['localhost', '127.0.0.1', '[::1]']);

/** Whether `address` (a bind address or host name) is loopback: localhost, 127.x.x.x or ::1. */
export function isLoopbackAddress(address: string): boolean {
  return ['localhost', '::1', '[::1]'].includes(address.toLowerCase()) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address);
}

/** A Host header's lower-cased name (IPv6 in brackets) and port ('' when absent). */
export function splitHostHeader(header: string): { name: string; port: string } {
  const match = /^(\[[0-9a-f:.]*\]|[^:[\]]*)(?::(\d+))?$/.exec(header.trim().toLowerCase());
  return match ? { name: match[1]!, port: match[2] ?? '' } : { name: header, port: '' };
}

/** What {@link installGuards} enforces. */
export interface GuardLimits {
  /** Caption uploads received at once. */
  maxUploads: number;
  /** Open connections; more are closed as they arrive. */
  maxConnections: number;
  /** Deadline for receiving a whole request from the end of its headers (headers alone: from the connection). */
  receiveTimeoutMs: number;
}

export interface GuardOptions {
  limits: GuardLimits;
  queue: WorkQueue;
  /** Host names answered (any port the server listens on, or none); undefined answers every Host. */
  allowedHosts: readonly string[] | undefined;
  logger: Logger;
  /** Method and path of the upload route (its requests are counted and refused early). */
  uploadRoute: { method: string; url: string };
}

/** Node's own deadlines for the connection, matching the receive deadline (the server's `http` options). */
export function connectionTimeouts(receiveTimeoutMs: number): { headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number } {
  return {
    headersTimeout: receiveTimeoutMs,
    // a backstop only: the guard answers 408 at the deadline itself
    requestTimeout: receiveTimeoutMs + 1000,
    connectionsCheckingInterval: Math.min(1000, Math.max(25, Math.round(receiveTimeoutMs / 10))),
  };
}

/** How long a refused connection keeps reading (and dropping) the body that is still arriving. */
const LINGER_MS = 2000;

/**
 * Answers `error` and closes the connection after it, without waiting for the unread body; logs one line.
 *
 * Node destroys a `connection: close` socket as soon as the answer is written; body bytes still in flight then make
 * the kernel send a reset, which can wipe the unread answer at the client (an upload would see a network error, not
 * the 503). So, as nginx's lingering close does, only the sending side is closed, what still arrives is read and
 * dropped, and the socket is destroyed after {@link LINGER_MS} or when the client closes (at once after a 408).
 */
export function refuse(request: FastifyRequest, reply: FastifyReply, error: HttpError, logger: Logger): FastifyReply {
  logger.warn(`${request.method} ${request.url.split('?')[0]} → ${error.statusCode}: ${error.message}`);
  const socket = request.raw.socket;
  // a client late by the receive deadline is not waited for
  if (socket && !request.raw.complete && error.statusCode !== 408) {
    socket.destroySoon = () => {
      socket.end();
      socket.resume();
      setTimeout(() => socket.destroy(), LINGER_MS).unref();
    };
  }
  return sendError(reply.header('connection', 'close'), error);
}

function hostError(request: FastifyRequest, allowed: readonly string[], app: FastifyInstance): HttpError | undefined {
  const header = request.headers.host ?? '';
  const { name, port } = splitHostHeader(header);
  const address = app.server.address();
  const listening = typeof address === 'object' && address !== null ? String(address.port) : undefined;
  if (allowed.includes(name) && (port === '' || listening === undefined || port === listening)) return undefined;
  return new HttpError(403, `Host ${JSON.stringify(header)} is not served here; allowed: ${allowed.join(', ')} (see allowedHosts)`);
}

/** Answers 408 and closes the connection when the request is still incomplete `ms` after its headers. */
function startReceiveDeadline(request: FastifyRequest, reply: FastifyReply, ms: number, logger: Logger): void {
  const timer = setTimeout(() => {
    if (request.raw.complete) return;
    if (reply.sent) request.raw.socket?.destroy();
    else refuse(request, reply, new HttpError(408, `The request was not received within ${ms} ms`), logger);
  }, ms);
  timer.unref();
  reply.raw.once('close', () => clearTimeout(timer));
}

/** Counts an upload until its body is read or its connection closes; false when the bound is reached. */
function admitUpload(request: FastifyRequest, reply: FastifyReply, counter: { uploads: number }, max: number): boolean {
  if (counter.uploads >= max) return false;
  counter.uploads++;
  let counted = true;
  const release = () => {
    if (counted) counter.uploads--;
    counted = false;
  };
  request.raw.once('end', release);
  reply.raw.once('close', release);
  return true;
}

/**
 * Installs the guards as the first `onRequest` hook and bounds the connections. Returns the live count of uploads
 * being received (for the health endpoint).
 */
export function installGuards(app: FastifyInstance, options: GuardOptions): { readonly uploads: number } {
  const { limits, queue, allowedHosts, logger, uploadRoute } = options;
  const counter = { uploads: 0 };
  app.server.maxConnections = limits.maxConnections;
  // a client that asks before sending its body (Expect: 100-continue, as curl does above 1 MiB) is invited only when
  // the upload would be admitted; otherwise the hook below refuses it before a byte of the body is sent
  app.server.on('checkContinue', (req, res) => {
    const upload = req.method === uploadRoute.method && (req.url ?? '').split('?')[0] === uploadRoute.url;
    if (!(upload && (queue.full || counter.uploads >= limits.maxUploads))) res.writeContinue();
    app.server.emit('request', req, res);
  });
  app.server.on('drop', (data) => logger.warn(`connection from ${data?.remoteAddress ?? 'a client'} closed: ${limits.maxConnections} connections already open`));
  app.addHook('onRequest', async (request, reply) => {
    const forbidden = allowedHosts && hostError(request, allowedHosts, app);
    if (forbidden) return refuse(request, reply, forbidden, logger);
    startReceiveDeadline(request, reply, limits.receiveTimeoutMs, logger);
    if (request.method !== uploadRoute.method || request.routeOptions.url !== uploadRoute.url) return undefined;
    if (queue.full) {
      const full = queue.refuse();
      return refuse(request, reply, new HttpError(503, full.message, { 'retry-after': String(full.retryAfterSeconds) }), logger);
    }
    if (!admitUpload(request, reply, counter, limits.maxUploads)) {
      return refuse(request, reply, new HttpError(503, `The server is busy: ${counter.uploads} uploads are in progress; retry in about 1 s`, { 'retry-after': '1' }), logger);
    }
    return undefined;
  });
  return counter;
}

/** The port asked for is taken by another process (see {@link assertPortFree}). */
export class PortInUseError extends Error {
  override name = 'PortInUseError';
  constructor(readonly host: string, readonly port: number) {
    super(`Port ${port} on ${host} is already in use; stop the other server or choose another port (0 picks a free one)`);
  }
}

/**
 * Fails fast when `port` on `host` cannot be bound (in use, or not permitted), before minutes of model loading.
 * Port 0 always binds.
 *
 * @throws PortInUseError when another process listens there
 */
export async function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const probe = createNetServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(host, port) : error);
    });
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

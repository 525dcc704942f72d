/**
 * HTTP/1.1 over a bare loopback socket, for tests that need what fetch hides: a body sent byte by byte, a
 * connection that stays open doing nothing, a client that hangs up mid-request, and the moment the server closes.
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';

/** A response read off the socket. */
export interface RawResponse {
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  body: string;
}

/** One client connection to 127.0.0.1. */
export interface RawConnection {
  socket: Socket;
  /** Resolves with the ms from connecting until the server closed the connection. */
  closed: Promise<number>;
  /** Resolves with the first complete response (status line, headers and a Content-Length body). */
  response: Promise<RawResponse>;
  /** Everything received so far. */
  received: () => string;
}

function parse(text: string): RawResponse | undefined {
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  const length = Number(headers['content-length'] ?? 0);
  const body = text.slice(end + 4);
  if (Buffer.byteLength(body) < length) return undefined;
  return { status: Number(statusLine!.split(' ')[1]), headers, body };
}

/** Opens a connection to 127.0.0.1:`port` (loopback only). */
export function rawConnect(port: number): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect({ host: '127.0.0.1', port });
    let text = '';
    let onResponse!: (r: RawResponse) => void;
    let onNoResponse!: (e: Error) => void;
    const response = new Promise<RawResponse>((res, rej) => { onResponse = res; onNoResponse = rej; });
    response.catch(() => {});
    const closed = new Promise<number>((res) => socket.once('close', () => {
      onNoResponse(new Error(`the server closed the connection without a complete response (received ${JSON.stringify(text.slice(0, 200))})`));
      res(performance.now() - started);
    }));
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const parsed = parse(text);
      if (parsed) onResponse(parsed);
    });
    socket.on('error', () => {});
    socket.once('connect', () => resolve({ socket, closed, response, received: () => text }));
    socket.once('error', reject);
  });
}

/** The head of a POST /api/caption with a declared body length. */
export function postHead(port: number, contentLength: number, host = `127.0.0.1:${port}`): string {
  return `POST /api/caption HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${contentLength}\r\n\r\n`;
}

/** Rejects when `promise` has not settled within `ms`, naming `what`. */
export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms); });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

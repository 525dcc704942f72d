/** The demo server's refusals: one JSON shape `{statusCode, error, message}` for every status it answers. */
import type { FastifyReply } from 'fastify';

/** A refusal with its HTTP status (the message is shown to the client). */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(readonly statusCode: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

/** The client hung up before its answer; nobody is left to tell (logged as 499, nginx's code for it). */
export class ClientClosedError extends Error {
  override name = 'ClientClosedError';
  constructor() {
    super('The client closed the connection before its answer');
  }
}

export function errorName(status: number): string {
  const names: Record<number, string> = {
    400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 408: 'Request Timeout', 413: 'Payload Too Large', 415: 'Unsupported Media Type',
    422: 'Unprocessable Content', 499: 'Client Closed Request', 500: 'Internal Server Error', 503: 'Service Unavailable', 504: 'Gateway Timeout',
  };
  return names[status] ?? 'Error';
}

export function sendError(reply: FastifyReply, error: HttpError): FastifyReply {
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
  return reply.code(error.statusCode).send({ statusCode: error.statusCode, error: errorName(error.statusCode), message: error.message });
}

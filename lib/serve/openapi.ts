/** The OpenAPI 3.1 description of the demo server's API (`GET /openapi.json`). */
import { generationOptionsOn } from '../generation/options.js';
import type { ServerLimits } from './limits.js';

const error = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

/** The OpenAPI 3.1 document for a server with these models and limits. */
export function openApiDocument(models: readonly string[], limits: ServerLimits): Record<string, unknown> {
  const o = limits.options;
  const optionsSchema = {
    type: 'object',
    additionalProperties: false,
    description: 'Generation options; unknown keys are refused (400, naming the key).',
    properties: {
      prompt: { type: 'string', maxLength: o.maxPromptLength, description: 'Text before the caption (e.g. "a photo of").' },
      // the server's options are integers, numbers and booleans: their kind is their JSON Schema type
      ...Object.fromEntries(generationOptionsOn('server').map((spec) => [spec.name, {
        type: spec.kind,
        ...(spec.range === undefined ? {} : { minimum: spec.range[0], maximum: spec.serverMax === undefined ? spec.range[1] : o[spec.serverMax] }),
        ...(spec.apiDoc === undefined ? {} : { description: spec.apiDoc }),
      }])),
    },
  };
  const imageBody = { type: 'string', contentMediaType: 'application/octet-stream', maxLength: limits.uploadBytes };
  return {
    openapi: '3.1.0',
    info: {
      title: 'blip2-progressive demo API',
      version: '1',
      description: `BLIP-2 captions for an uploaded image from ${models.map((m) => JSON.stringify(m)).join(', ')}. ` +
        'The image format is judged from its bytes (JPEG, PNG, GIF, WebP, TIFF, AVIF; SVG refused), never from its name or Content-Type.',
    },
    paths: {
      '/api/caption': {
        post: {
          summary: 'Caption one image with every loaded model (one caption per model, in the order served)',
          parameters: [
            { name: 'options', in: 'query', required: false, description: 'Options as JSON (raw-body requests).', schema: { type: 'string' } },
            { name: 'X-Caption-Options', in: 'header', required: false, description: 'Options as JSON (raw-body requests).', schema: { type: 'string' } },
          ],
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': {
                schema: {
                  type: 'object',
                  required: ['image'],
                  properties: { image: imageBody, options: { type: 'string', description: 'JSON text of CaptionOptions' } },
                },
              },
              'image/*': { schema: imageBody },
              'application/octet-stream': { schema: imageBody },
            },
          },
          responses: {
            200: { description: 'Captions side by side and timings', content: { 'application/json': { schema: { $ref: '#/components/schemas/CaptionResponse' } } } },
            400: error('Invalid options (the message names the option), or more multipart parts than one file and 4 fields'),
            403: error('Host header not among the allowed names (a loopback server answers localhost, 127.0.0.1 and [::1])'),
            408: error(`Request not received within ${limits.receiveTimeoutMs} ms (the connection is closed)`),
            413: error(`Upload over ${limits.uploadBytes} bytes, or image over ${limits.maxPixels} pixels`),
            415: error('Not an image of a supported format, or SVG'),
            422: error('Corrupt or truncated image'),
            503: { ...error(`Queue full (${limits.maxWaiting} waiting) or ${limits.maxUploads} uploads in progress; answered before the body is read`), headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'Seconds' } } },
            504: error(`Not done within ${limits.timeoutMs} ms (the caption is aborted)`),
          },
        },
      },
      '/api/health': {
        get: {
          summary: 'Liveness, loaded models and queue counters (answers while captions run)',
          responses: { 200: { description: 'Health', content: { 'application/json': { schema: { $ref: '#/components/schemas/Health' } } } } },
        },
      },
      '/': { get: { summary: 'The demo page', responses: { 200: { description: 'HTML', content: { 'text/html': {} } } } } },
    },
    components: {
      schemas: {
        CaptionOptions: optionsSchema,
        Caption: {
          type: 'object',
          required: ['model', 'text', 'tokenIds', 'score'],
          properties: {
            model: { type: 'string', enum: [...models] },
            text: { type: 'string' },
            tokenIds: { type: 'array', items: { type: 'integer' } },
            score: { type: 'number', description: 'Beam search: sequences score; otherwise mean token log-probability' },
            sequences: {
              type: 'array', items: { $ref: '#/components/schemas/Sequence' },
              description: 'With numReturnSequences > 1: every sequence, best first (the first is text, tokenIds and score above).',
            },
          },
        },
        Sequence: {
          type: 'object',
          required: ['text', 'tokenIds', 'score'],
          properties: { text: { type: 'string' }, tokenIds: { type: 'array', items: { type: 'integer' } }, score: { type: 'number' } },
        },
        CaptionResponse: {
          type: 'object',
          required: ['captions', 'timings'],
          properties: {
            captions: { type: 'array', items: { $ref: '#/components/schemas/Caption' } },
            timings: {
              type: 'object',
              required: ['preprocessMs', 'generateMs', 'totalMs'],
              properties: { preprocessMs: { type: 'number' }, generateMs: { type: 'number' }, totalMs: { type: 'number' } },
            },
          },
        },
        Health: {
          type: 'object',
          required: ['status', 'models', 'queue'],
          properties: {
            status: { const: 'ok' },
            models: { type: 'array', items: { type: 'string' } },
            queue: {
              type: 'object',
              properties: Object.fromEntries(['running', 'waiting', 'concurrency', 'maxWaiting', 'completed', 'timedOut', 'rejected', 'abandoned'].map((k) => [k, { type: 'integer' }])),
            },
          },
        },
        Error: {
          type: 'object',
          required: ['statusCode', 'error', 'message'],
          properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' } },
        },
      },
    },
  };
}

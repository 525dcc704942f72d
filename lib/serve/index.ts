/** The demo web app: HTTP API, page and limits (see {@link createServer}). */
export {
  createServer, startServer, loadServeModels, adapterNames, serveAdapters, modelDisplayName, duplicateName, HttpError,
  type CreateServerOptions, type LoadServeModelsOptions, type ServeModel, type ServeAdapter, type CaptionerLike, type CaptionResponse,
  type ApiCaption, type ApiSequence,
} from './server.js';
export { resolveLimits, DEFAULT_LIMITS, type ServerLimits } from './limits.js';
export { validateApiOptions, parseOptionsJson, API_OPTION_KEYS, DEFAULT_OPTION_LIMITS, type ApiCaptionOptions, type ApiOptionLimits } from './options.js';
export { ClientClosedError } from './errors.js';
export { assertPortFree, PortInUseError } from './guards.js';
export { WorkQueue, QueueFullError, QueueTimeoutError, type WorkQueueOptions, type QueueStats } from './queue.js';
export { sniffImage, UnsupportedMediaError, type SniffedFormat } from './sniff.js';
export { renderPage, PAPER_DEMO_PRESET, type PageConfig } from './page.js';
export { openApiDocument } from './openapi.js';

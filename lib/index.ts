/**
 * blip2-progressive: BLIP-2 captioning and progressive fine-tuning over libtorch.
 */
export type { Logger } from './logger.js';
export { silentLogger, streamLogger } from './logger.js';

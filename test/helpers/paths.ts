import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** test/fixtures */
export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
/** The tiny BLIP-2 model directory made with Hugging Face transformers. */
export const TINY_MODEL = join(FIXTURES, 'blip2-tiny', 'model');
export const TINY = join(FIXTURES, 'blip2-tiny');
/** The tiny BLIP-2 model with an OPT language model, made with Hugging Face transformers. */
export const TINY_OPT = join(FIXTURES, 'blip2-opt-tiny');
export const TINY_OPT_MODEL = join(TINY_OPT, 'model');

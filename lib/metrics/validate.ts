/**
 * Input checks shared by the scorers. pycocoevalcap asserts the same conditions (one hypothesis
 * and at least one reference per image, same image ids); here they are errors naming the index.
 */
import { invalidParameterError } from '../is.js';

/**
 * Asserts `refs` is an array of non-empty arrays of strings and `cands` an array of strings of the
 * same length. Candidates may be empty strings (pycocoevalcap scores them, mostly as 0).
 */
export function checkScorerInput(refs: unknown, cands: unknown): asserts refs is string[][] {
  if (!Array.isArray(refs)) throw invalidParameterError('references', 'array of arrays of strings', refs);
  if (!Array.isArray(cands)) throw invalidParameterError('candidates', 'array of strings', cands);
  if (cands.length !== refs.length) {
    throw invalidParameterError('candidates', `array of length ${refs.length} (one per image, as references)`, cands);
  }
  for (let i = 0; i < refs.length; i++) {
    const r: unknown = refs[i];
    if (!Array.isArray(r) || r.length === 0) {
      throw invalidParameterError(`references[${i}]`, 'non-empty array of strings', r);
    }
    for (let j = 0; j < r.length; j++) {
      if (typeof r[j] !== 'string') throw invalidParameterError(`references[${i}][${j}]`, 'string', r[j]);
    }
    if (typeof cands[i] !== 'string') throw invalidParameterError(`candidates[${i}]`, 'string', cands[i]);
  }
}

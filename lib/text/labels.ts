/**
 * Training-label helpers for T5: the ignore index used by the loss, and `_shift_right`, which turns
 * labels into decoder inputs.
 */
import { integerInRange, invalidParameterError, isInteger } from '../is.js';

/** Label value the cross-entropy loss ignores (`CrossEntropyLoss(ignore_index=-100)`). */
export const IGNORE_INDEX = -100;

/** Largest id accepted anywhere (ids are int64 on the native side; keep them exact in JS). */
const MAX_ID = 2 ** 31 - 1;

/**
 * T5 `_shift_right`: prepends `decoderStartTokenId`, drops the last column and replaces every
 * -100 with `padTokenId`, row by row.
 *
 * `shiftRight([[3,164,46,17,4,76,1],[24,148,8,1,-100,-100,-100]])` →
 * `[[0,3,164,46,17,4,76],[0,24,148,8,1,0,0]]`.
 *
 * @param labels rows of equal length; ids ≥ 0 or -100.
 * @param decoderStartTokenId T5's `decoder_start_token_id` (0, the pad id).
 * @param padTokenId replaces -100 in the result (0 for T5).
 */
export function shiftRight(labels: readonly (readonly number[])[], decoderStartTokenId = 0, padTokenId = 0): number[][] {
  if (!Array.isArray(labels)) throw invalidParameterError('labels', 'array of label rows', labels);
  integerInRange('decoderStartTokenId', decoderStartTokenId, 0, MAX_ID);
  integerInRange('padTokenId', padTokenId, 0, MAX_ID);
  const width = Array.isArray(labels[0]) ? labels[0].length : 0;
  return labels.map((row, r) => {
    if (!Array.isArray(row) || row.length !== width) {
      throw invalidParameterError(`labels[${r}]`, `array of length ${width} (rows must have equal length)`, row);
    }
    row.forEach((value, i) => {
      if (value !== IGNORE_INDEX && !(isInteger(value) && value >= 0 && value <= MAX_ID)) {
        throw invalidParameterError(`labels[${r}][${i}]`, `integer between 0 and ${MAX_ID} or ${IGNORE_INDEX}`, value);
      }
    });
    if (width === 0) return [];
    return [decoderStartTokenId, ...row.slice(0, width - 1)].map((v) => (v === IGNORE_INDEX ? padTokenId : v));
  });
}

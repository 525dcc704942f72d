import type { OutputTensor } from '../../lib/native.js';

/**
 * The values of a float32 tensor the addon returned; throws, failing the test, when it is missing or of another dtype.
 */
export function floatData(tensor: OutputTensor | undefined, name = 'tensor'): Float32Array {
  if (tensor === undefined) throw new Error(`Expected a float32 ${name} but received none`);
  if (tensor.dtype !== 'float32') throw new Error(`Expected a float32 ${name} but received ${tensor.dtype}`);
  return tensor.data;
}

/** max |got - ref| over max |ref| (the plain max difference when ref is all zeros): a gradient's relative error. */
export function relativeMaxDiff(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  let maxAbs = 0;
  let maxDiff = 0;
  for (let i = 0; i < ref.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(ref[i]!));
    maxDiff = Math.max(maxDiff, Math.abs(got[i]! - ref[i]!));
  }
  return maxAbs === 0 ? maxDiff : maxDiff / maxAbs;
}

import type { OutputTensor } from '../../lib/native.js';

/**
 * The values of a float32 tensor the addon returned; throws, failing the test, when it is missing or of another dtype.
 */
export function floatData(tensor: OutputTensor | undefined, name = 'tensor'): Float32Array {
  if (tensor === undefined) throw new Error(`Expected a float32 ${name} but received none`);
  if (tensor.dtype !== 'float32') throw new Error(`Expected a float32 ${name} but received ${tensor.dtype}`);
  return tensor.data;
}

// A run config's dtype: every load dtype a run can train in, and int8 (inference only) refused with the fix.
import { describe, expect, it } from 'vitest';
import { RUN_KEYS } from '../../lib/train/run-config.js';

describe('run config dtype', () => {
  const read = (value: unknown) => RUN_KEYS.dtype.read(value, 'config.dtype', { base: '/' });

  it('accepts the dtypes a run trains in, and none', () => {
    expect(['float32', 'bfloat16', 'float16', 'bfloat16-mixed', 'auto', undefined].map(read))
      .toEqual(['float32', 'bfloat16', 'float16', 'bfloat16-mixed', 'auto', undefined]);
    expect(RUN_KEYS.dtype.type).toBe('"float32" | "bfloat16" | "float16" | "bfloat16-mixed" | "auto"');
  });

  it('refuses int8, naming the dtypes to train in and what int8 is for', () => {
    expect(() => read('int8')).toThrow(
      "Expected a dtype to train in: 'float32' or 'bfloat16-mixed' (dtype 'int8' is inference only; load the trained adapter onto an int8 " +
      'model to caption with it) for config.dtype but received "int8" of type string');
  });

  it('refuses other values as before', () => {
    expect(() => read('int4')).toThrow('Expected one of "float32", "bfloat16", "float16", "bfloat16-mixed", "auto" for config.dtype but received "int4" of type string');
  });
});

// The contract between TypeScript and the addon: TypeScript's name lists equal the names the addon accepts.
import { describe, expect, it } from 'vitest';
import { FORWARD_OUTPUTS, LOAD_DTYPES, native } from '../../lib/native.js';
import { DTYPES } from '../../lib/model/blip2-model.js';
import { ACTIVATIONS } from '../../lib/model/config.js';

const sorted = (names: readonly string[]) => [...names].sort();

describe('name lists', () => {
  it('forward outputs: FORWARD_OUTPUTS is what the addon computes', () => {
    expect(sorted(FORWARD_OUTPUTS)).toEqual(sorted(native().names().forwardOutputs));
    expect(FORWARD_OUTPUTS).toHaveLength(11);
  });

  it('activations: the config parser accepts what the addon implements', () => {
    expect(sorted(ACTIVATIONS)).toEqual(sorted(native().names().activations));
  });

  it("dtypes: the addon loads LOAD_DTYPES; the dtype option adds 'auto', resolved in TypeScript", () => {
    expect(sorted(LOAD_DTYPES)).toEqual(sorted(native().names().dtypes));
    expect(sorted(DTYPES)).toEqual(sorted([...native().names().dtypes, 'auto']));
  });
});

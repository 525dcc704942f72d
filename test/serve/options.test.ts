import { describe, expect, it } from 'vitest';
import { parseOptionsJson, validateApiOptions } from '../../lib/serve/options.js';

describe('API caption options', () => {
  it('passes valid options through as library options', () => {
    expect(validateApiOptions({ prompt: 'a photo of', maxNewTokens: 12, numBeams: 3, doSample: true, temperature: 0.7, topP: 0.9, seed: 5 }))
      .toEqual({ prompt: 'a photo of', maxNewTokens: 12, numBeams: 3, doSample: true, temperature: 0.7, topP: 0.9, seed: 5 });
    expect(validateApiOptions(undefined)).toEqual({});
    expect(validateApiOptions(null)).toEqual({});
    expect(validateApiOptions({ prompt: '' })).toEqual({});
  });

  it('names an unknown key', () => {
    expect(() => validateApiOptions({ beams: 2 })).toThrow(new TypeError(
      'Unknown option "beams" in options; expected one of "prompt", "maxNewTokens", "numBeams", "doSample", "temperature", "topP", "seed"',
    ));
  });

  it('refuses values out of range with the library message', () => {
    expect(() => validateApiOptions({ numBeams: 0 })).toThrow(new TypeError('Expected integer between 1 and 8 for numBeams but received 0 of type number'));
    expect(() => validateApiOptions({ maxNewTokens: 65 })).toThrow(new TypeError('Expected integer between 1 and 64 for maxNewTokens but received 65 of type number'));
    expect(() => validateApiOptions({ maxNewTokens: '5' })).toThrow(new TypeError('Expected integer between 1 and 64 for maxNewTokens but received "5" of type string'));
    expect(() => validateApiOptions({ topP: 1.5 })).toThrow(new TypeError('Expected number between 0 and 1 for topP but received 1.5 of type number'));
    expect(() => validateApiOptions({ temperature: 0 })).toThrow(new TypeError('Expected number between 0.01 and 10 for temperature but received 0 of type number'));
    expect(() => validateApiOptions({ doSample: 'yes' })).toThrow(new TypeError('Expected boolean for doSample but received "yes" of type string'));
    expect(() => validateApiOptions({ seed: -1 })).toThrow(new TypeError('Expected integer between 0 and 9007199254740991 for seed but received -1 of type number'));
    expect(() => validateApiOptions({ prompt: 'x'.repeat(4) }, { maxNewTokens: 64, maxBeams: 8, maxPromptLength: 3 }))
      .toThrow(new TypeError('Expected string of at most 3 characters for prompt but received "xxxx" of type string'));
    expect(() => validateApiOptions([1])).toThrow(new TypeError('Expected plain object for options but received an array of length 1'));
  });

  it('says where bad JSON came from', () => {
    expect(parseOptionsJson('{"numBeams":2}', 'the options field')).toEqual({ numBeams: 2 });
    expect(() => parseOptionsJson('{numBeams:2}', 'the options query parameter'))
      .toThrow(new TypeError('Expected JSON for the options query parameter but received "{numBeams:2}"'));
  });
});

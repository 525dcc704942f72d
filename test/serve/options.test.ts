import { describe, expect, it } from 'vitest';
import { parseOptionsJson, validateApiOptions } from '../../lib/serve/options.js';

describe('API caption options', () => {
  it('passes valid options through as library options', () => {
    expect(validateApiOptions({ prompt: 'a photo of', maxNewTokens: 12, numBeams: 3, doSample: true, temperature: 0.7, topP: 0.9, seed: 5 }))
      .toEqual({ prompt: 'a photo of', maxNewTokens: 12, numBeams: 3, doSample: true, temperature: 0.7, topP: 0.9, seed: 5 });
    expect(validateApiOptions(undefined)).toEqual({});
    expect(validateApiOptions(null)).toEqual({});
    expect(validateApiOptions({ prompt: '' })).toEqual({});
    expect(validateApiOptions({ prompt: 'caption', maxNewTokens: 40, minNewTokens: 20, lengthPenalty: 1.15, noRepeatNgramSize: 3, numBeams: 4, numReturnSequences: 4 }))
      .toEqual({ prompt: 'caption', maxNewTokens: 40, minNewTokens: 20, lengthPenalty: 1.15, noRepeatNgramSize: 3, numBeams: 4, numReturnSequences: 4 });
    expect(validateApiOptions({ doSample: true, numReturnSequences: 8, minNewTokens: 0, noRepeatNgramSize: 0, lengthPenalty: -10 }))
      .toEqual({ doSample: true, numReturnSequences: 8, minNewTokens: 0, noRepeatNgramSize: 0, lengthPenalty: -10 });
  });

  it('names an unknown key', () => {
    expect(() => validateApiOptions({ beams: 2 })).toThrow(new TypeError(
      'Unknown option "beams" in options; expected one of "prompt", "maxNewTokens", "minNewTokens", "numBeams", "numReturnSequences", "lengthPenalty", ' +
        '"noRepeatNgramSize", "doSample", "temperature", "topP", "seed"',
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
    expect(() => validateApiOptions({ minNewTokens: 65 })).toThrow(new TypeError('Expected integer between 0 and 64 for minNewTokens but received 65 of type number'));
    expect(() => validateApiOptions({ minNewTokens: 1.5 })).toThrow(new TypeError('Expected integer between 0 and 64 for minNewTokens but received 1.5 of type number'));
    expect(() => validateApiOptions({ lengthPenalty: 10.5 })).toThrow(new TypeError('Expected number between -10 and 10 for lengthPenalty but received 10.5 of type number'));
    expect(() => validateApiOptions({ lengthPenalty: '1.15' })).toThrow(new TypeError('Expected number between -10 and 10 for lengthPenalty but received "1.15" of type string'));
    expect(() => validateApiOptions({ noRepeatNgramSize: -1 })).toThrow(new TypeError('Expected integer between 0 and 64 for noRepeatNgramSize but received -1 of type number'));
    expect(() => validateApiOptions({ noRepeatNgramSize: 3 }, { maxNewTokens: 2, maxBeams: 8, maxPromptLength: 500 }))
      .toThrow(new TypeError('Expected integer between 0 and 2 for noRepeatNgramSize but received 3 of type number'));
    expect(() => validateApiOptions({ doSample: true, numReturnSequences: 9 })).toThrow(new TypeError('Expected integer between 1 and 8 for numReturnSequences but received 9 of type number'));
    expect(() => validateApiOptions([1])).toThrow(new TypeError('Expected plain object for options but received an array of length 1'));
  });

  it('numReturnSequences follows the library: more than one needs as many beams, or sampling', () => {
    expect(() => validateApiOptions({ numReturnSequences: 3 })).toThrow(new TypeError(
      'Expected integer between 1 and 1 (greedy search returns one sequence; set numBeams or doSample) for numReturnSequences but received 3 of type number',
    ));
    expect(() => validateApiOptions({ numBeams: 2, numReturnSequences: 3 }))
      .toThrow(new TypeError('Expected integer between 1 and 2 for numReturnSequences but received 3 of type number'));
    expect(validateApiOptions({ numBeams: 3, numReturnSequences: 3 })).toEqual({ numBeams: 3, numReturnSequences: 3 });
    expect(validateApiOptions({ doSample: true, numReturnSequences: 3 })).toEqual({ doSample: true, numReturnSequences: 3 });
    expect(validateApiOptions({ numReturnSequences: 1 })).toEqual({ numReturnSequences: 1 });
  });

  it('says where bad JSON came from', () => {
    expect(parseOptionsJson('{"numBeams":2}', 'the options field')).toEqual({ numBeams: 2 });
    expect(() => parseOptionsJson('{numBeams:2}', 'the options query parameter'))
      .toThrow(new TypeError('Expected JSON for the options query parameter but received "{numBeams:2}"'));
  });
});

import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { shiftRight, T5Tokenizer } from '../../lib/text/tokenizer.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtureDir = path.resolve(here, '../fixtures/blip2-tiny');
const modelDir = path.join(fixtureDir, 'model');

interface EncodeCase {
  text: string;
  input_ids: number[];
  tokens: string[];
  decode_skip_special: string;
  decode_keep_special: string;
  fast_input_ids: number[];
  fast_matches_slow: boolean;
}
interface DecodeCase {
  ids: number[];
  decode_skip_special: string;
  decode_keep_special: string;
}
interface Cases {
  cases: EncodeCase[];
  decode_cases: DecodeCase[];
  batch_padding_example: { texts: string[]; input_ids: number[][]; attention_mask: number[][] };
}

const cases = JSON.parse(readFileSync(path.join(fixtureDir, 'tokenizer-cases.json'), 'utf8')) as Cases;
let tok: T5Tokenizer;

beforeAll(async () => {
  tok = await T5Tokenizer.fromPretrained(modelDir);
});

describe('T5Tokenizer parity with the slow HF T5Tokenizer (tokenizer-cases.json)', () => {
  it('encodes every case to the same input_ids and tokens', () => {
    const mismatches: string[] = [];
    let idsMatched = 0;
    let tokensMatched = 0;
    for (const c of cases.cases) {
      const ids = tok.encode(c.text);
      const tokens = tok.convertIdsToTokens(ids);
      if (JSON.stringify(ids) === JSON.stringify(c.input_ids)) idsMatched++;
      else mismatches.push(`${JSON.stringify(c.text)}: ${JSON.stringify(ids)} != ${JSON.stringify(c.input_ids)}`);
      if (JSON.stringify(tokens) === JSON.stringify(c.tokens)) tokensMatched++;
      else mismatches.push(`${JSON.stringify(c.text)}: tokens ${JSON.stringify(tokens)}`);
    }
    console.log(`encode: input_ids ${idsMatched}/${cases.cases.length}, tokens ${tokensMatched}/${cases.cases.length} match the slow tokenizer`);
    expect(mismatches).toEqual([]);
    expect(cases.cases.length).toBe(61);
    expect(idsMatched).toBe(61);
    expect(tokensMatched).toBe(61);
  });

  it('decodes every case with and without special tokens', () => {
    let skipMatched = 0;
    let keepMatched = 0;
    for (const c of cases.cases) {
      if (tok.decode(c.input_ids, { skipSpecialTokens: true }) === c.decode_skip_special) skipMatched++;
      if (tok.decode(c.input_ids) === c.decode_keep_special) keepMatched++;
    }
    console.log(`decode: skip_special ${skipMatched}/${cases.cases.length}, keep_special ${keepMatched}/${cases.cases.length}`);
    expect(skipMatched).toBe(61);
    expect(keepMatched).toBe(61);
  });

  it('decodes all 14 decode_cases exactly', () => {
    let matched = 0;
    for (const c of cases.decode_cases) {
      expect(tok.decode(c.ids, { skipSpecialTokens: true })).toBe(c.decode_skip_special);
      expect(tok.decode(c.ids, { skipSpecialTokens: false })).toBe(c.decode_keep_special);
      matched++;
    }
    console.log(`decode_cases: ${matched}/${cases.decode_cases.length}`);
    expect(matched).toBe(14);
  });

  it('batch-decodes the decode_cases in one call', () => {
    const ids = cases.decode_cases.map((c) => c.ids);
    expect(tok.batchDecode(ids, { skipSpecialTokens: true })).toEqual(cases.decode_cases.map((c) => c.decode_skip_special));
  });

  it('reproduces the batch padding example', () => {
    const example = cases.batch_padding_example;
    const batch = tok.encodeBatch(example.texts, { padding: 'longest' });
    expect(batch.inputIds).toEqual(example.input_ids);
    expect(batch.attentionMask).toEqual(example.attention_mask);
  });

  // The fixture's only two slow/fast differences. The fast tokenizer's TemplateProcessing always
  // appends </s>; the slow T5Tokenizer (`_add_eos_if_not_present`) does not append it when the ids
  // already end with </s>. The model was trained and evaluated with the slow behaviour, so we follow it.
  it('follows the slow tokenizer where the fast one differs: no second </s>', () => {
    const mismatched = cases.cases.filter((c) => !c.fast_matches_slow);
    expect(mismatched.map((c) => c.text)).toEqual(['</s>', 'a dog</s>']);
    expect(tok.encode('</s>')).toEqual([1]);
    expect(tok.encode('a dog</s>')).toEqual([3, 164, 1]);
    expect(mismatched.map((c) => c.fast_input_ids)).toEqual([[1, 1], [3, 164, 1, 1]]);
  });
});

describe('T5Tokenizer behaviour', () => {
  it('exposes the special ids and vocabulary sizes', () => {
    expect([tok.padTokenId, tok.eosTokenId, tok.unkTokenId]).toEqual([0, 1, 2]);
    expect(tok.vocabSize).toBe(4100);
    expect(tok.pieceCount).toBe(4000);
    expect(tok.idToToken(4099)).toBe('<extra_id_0>');
    expect(tok.idToToken(4000)).toBe('<extra_id_99>');
    expect(tok.tokenToId('<extra_id_1>')).toBe(4098);
    expect(tok.tokenToId('▁dog')).toBe(164);
    expect(tok.tokenToId('not a piece')).toBe(2);
    expect(tok.modelMaxLength).toBe(undefined);
  });

  it('encodes the README prompt and can leave out </s>', () => {
    expect(tok.encode('caption:')).toEqual([18, 31, 7, 1]);
    expect(tok.encode('caption:', { addSpecialTokens: false })).toEqual([18, 31, 7]);
    expect(tok.encode('', { addSpecialTokens: false })).toEqual([]);
  });

  it('tokenize returns pieces without </s>, a run of unknown characters as one normalized piece', () => {
    expect(tok.tokenize('a dog<extra_id_0>runs')).toEqual(['▁a', '▁dog', '<extra_id_0>', '▁run', 's']);
    expect(tok.tokenize('emoji 🐶🐱')).toEqual(['▁e', 'm', 'o', 'j', 'i', '▁', '🐶🐱']);
    expect(tok.tokenToId('🐶🐱')).toBe(2);
  });

  it('turns labels into -100-padded targets and shifts them right (README "Token ids / labels")', () => {
    const { labels } = tok.encodeTargets(['a dog running on the beach', 'two cats']);
    expect(labels).toEqual([
      [3, 164, 46, 17, 4, 76, 1],
      [24, 148, 8, 1, -100, -100, -100],
    ]);
    expect(shiftRight(labels)).toEqual([
      [0, 3, 164, 46, 17, 4, 76],
      [0, 24, 148, 8, 1, 0, 0],
    ]);
    expect(shiftRight([[5, -100]], 7, 9)).toEqual([[7, 5]]);
  });

  it('truncates keeping </s> and pads to max_length or a multiple', () => {
    // "a dog on a beach" → [3, 164, 17, 3, 76, 1]
    expect(tok.encodeBatch(['a dog on a beach'], { maxLength: 4 }).inputIds).toEqual([[3, 164, 17, 1]]);
    const padded = tok.encodeBatch(['a dog on a beach', 'two cats'], { padding: 'max_length', maxLength: 8 });
    expect(padded.inputIds).toEqual([
      [3, 164, 17, 3, 76, 1, 0, 0],
      [24, 148, 8, 1, 0, 0, 0, 0],
    ]);
    expect(padded.attentionMask).toEqual([
      [1, 1, 1, 1, 1, 1, 0, 0],
      [1, 1, 1, 1, 0, 0, 0, 0],
    ]);
    const multiple = tok.encodeBatch(['a dog on a beach', 'two cats'], { padding: 'longest', padToMultipleOf: 4 });
    expect(multiple.inputIds.map((r) => r.length)).toEqual([8, 8]);
    expect(tok.encodeTargets(['a dog on a beach', 'two cats'], { maxLength: 3 }).labels).toEqual([
      [3, 164, 1],
      [24, 148, 1],
    ]);
    expect(tok.encodeBatch(['a dog on a beach'], { maxLength: 4, truncation: false }).inputIds).toEqual([[3, 164, 17, 3, 76, 1]]);
  });

  it('builds the same tokenizer from the parsed JSON', () => {
    const json = JSON.parse(readFileSync(path.join(modelDir, 'tokenizer.json'), 'utf8')) as unknown;
    const config = JSON.parse(readFileSync(path.join(modelDir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    const fromJson = T5Tokenizer.fromJSON(json, config);
    expect(fromJson.encode('Question: what is in the image? Answer:')).toEqual([28, 30, 7, 26, 9, 13, 4, 1800, 20, 10, 29, 7, 1]);
    expect(T5Tokenizer.fromJSON(json).decode([0, 3, 164, 1], { skipSpecialTokens: true })).toBe('a dog');
  });

  it('reads the older converter layout (Replace → " ", WhitespaceSplit + Metaspace add_prefix_space) the same way', () => {
    const json = JSON.parse(readFileSync(path.join(modelDir, 'tokenizer.json'), 'utf8')) as {
      normalizer: { normalizers: Record<string, unknown>[] };
    };
    const precompiled = json.normalizer.normalizers[0];
    const older = T5Tokenizer.fromJSON({
      ...json,
      normalizer: { type: 'Sequence', normalizers: [precompiled, { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }] },
      pre_tokenizer: {
        type: 'Sequence',
        pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Metaspace', replacement: '▁', add_prefix_space: true }],
      },
    });
    const matched = cases.cases.filter((c) => JSON.stringify(older.encode(c.text)) === JSON.stringify(c.input_ids)).length;
    expect(matched).toBe(61);
  });
});

describe('T5Tokenizer bad input', () => {
  it('rejects non-string text', () => {
    expect(() => tok.encode(5 as unknown as string)).toThrow('Expected string for text but received 5 of type number');
    expect(() => tok.tokenize(null as unknown as string)).toThrow('Expected string for text but received null');
    expect(() => tok.encodeBatch(['ok', ['x']] as unknown as string[])).toThrow(
      'Expected string for texts[1] but received an array of length 1',
    );
    expect(() => tok.encode('a \ud83d dog')).toThrow('Expected string without unpaired surrogates for text but received "a \\ud83d dog" of type string');
    expect(tok.encode('🐶')).toEqual([6, 2, 1]);
    expect(() => tok.encodeBatch('a dog' as unknown as string[])).toThrow(
      'Expected array of strings for texts but received "a dog" of type string',
    );
  });

  it('rejects ids that cannot be decoded, naming the position, the id and the range', () => {
    expect(() => tok.decode([3, 4100])).toThrow('Expected integer between 0 and 4099 for ids[1] but received 4100 of type number');
    expect(() => tok.decode([4127])).toThrow('Expected integer between 0 and 4099 for ids[0] but received 4127 of type number');
    expect(() => tok.decode([-1])).toThrow('Expected integer between 0 and 4099 for ids[0] but received -1 of type number');
    expect(() => tok.decode([1.5])).toThrow('Expected integer between 0 and 4099 for ids[0] but received 1.5 of type number');
    expect(() => tok.decode('3 4' as unknown as number[])).toThrow('Expected array of token ids for ids but received "3 4" of type string');
    expect(() => tok.batchDecode([[3], [9999]])).toThrow('Expected integer between 0 and 4099 for sequences[1][0] but received 9999 of type number');
    expect(() => tok.idToToken(4100)).toThrow('Expected integer between 0 and 4099 for id but received 4100 of type number');
    expect(tok.decode(Int32Array.of(3, 164))).toBe('a dog');
  });

  it('rejects unknown and ill-typed options', () => {
    expect(() => tok.encode('x', { addSpecialToken: false } as never)).toThrow(
      'Unknown option "addSpecialToken" in options; expected one of "addSpecialTokens"',
    );
    expect(() => tok.decode([3], { skipSpecial: true } as never)).toThrow(
      'Unknown option "skipSpecial" in options; expected one of "skipSpecialTokens", "cleanUpTokenizationSpaces"',
    );
    expect(() => tok.decode([3], { skipSpecialTokens: 'yes' } as never)).toThrow(
      'Expected boolean for skipSpecialTokens but received "yes" of type string',
    );
    expect(() => tok.encodeBatch(['x'], { padding: 'max' } as never)).toThrow(
      'Expected one of "longest", "max_length" for padding but received "max" of type string',
    );
    expect(() => tok.encodeBatch(['x'], { padding: 'max_length' })).toThrow(
      "Expected maxLength with padding: 'max_length' (the tokenizer config sets no model_max_length)",
    );
    expect(() => tok.encodeBatch(['x'], { maxLength: 0 })).toThrow('Expected integer between 1 and 2147483647 for maxLength but received 0 of type number');
    expect(() => tok.encodeBatch(['x'], { padToMultipleOf: 8 })).toThrow(
      "Expected padding 'longest' or 'max_length' with padToMultipleOf but received false",
    );
    expect(() => tok.encodeBatch(['a dog on a beach'], { maxLength: 1 })).toThrow(
      'Expected maxLength of at least 2 to truncate with special tokens but received 1',
    );
    expect(() => tok.encodeTargets(['x'], { max_length: 4 } as never)).toThrow(
      'Unknown option "max_length" in options; expected one of "maxLength"',
    );
    expect(() => tok.encode('x', 'yes' as never)).toThrow('Expected plain object for options but received "yes" of type string');
  });

  it('rejects bad labels in shiftRight', () => {
    expect(() => shiftRight([[1, 2], [3]])).toThrow('Expected array of length 2 (rows must have equal length) for labels[1] but received an array of length 1');
    expect(() => shiftRight([[1, -5]])).toThrow('Expected integer between 0 and 2147483647 or -100 for labels[0][1] but received -5 of type number');
    expect(() => shiftRight([[1]], -1)).toThrow('Expected integer between 0 and 2147483647 for decoderStartTokenId but received -1 of type number');
  });

  it('names the missing tokenizer.json and says what is expected', async () => {
    const missing = path.join(fixtureDir, 'images');
    await expect(T5Tokenizer.fromPretrained(missing)).rejects.toThrow(
      `Cannot load the T5 tokenizer: ${path.join(missing, 'tokenizer.json')} does not exist. Expected a Hugging Face tokenizer.json ` +
        `(the fast-tokenizer file that save_pretrained writes) in the directory ${missing}`,
    );
    const nowhere = path.join(fixtureDir, 'no-such-dir');
    await expect(T5Tokenizer.fromPretrained(nowhere)).rejects.toThrow(`in ${nowhere}, which is not a directory`);
    await expect(T5Tokenizer.fromPretrained('' as string)).rejects.toThrow('Expected non-empty string for modelDir but received "" of type string');
  });

  it('checks added_tokens.json against tokenizer.json and names unparsable files', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 't5tok-'));
    try {
      copyFileSync(path.join(modelDir, 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
      writeFileSync(path.join(dir, 'added_tokens.json'), JSON.stringify({ '<extra_id_0>': 4000 }));
      await expect(T5Tokenizer.fromPretrained(dir)).rejects.toThrow(
        `${path.join(dir, 'added_tokens.json')} gives "<extra_id_0>" the id 4000, but tokenizer.json has id 4099`,
      );
      writeFileSync(path.join(dir, 'added_tokens.json'), '{');
      await expect(T5Tokenizer.fromPretrained(dir)).rejects.toThrow(
        `Cannot parse tokenizer file ${path.join(dir, 'added_tokens.json')}: invalid JSON at line 1, column 2: unexpected end of file`);
      rmSync(path.join(dir, 'added_tokens.json'));
      const bare = await T5Tokenizer.fromPretrained(dir);
      expect(bare.encode('<extra_id_0> a dog')).toEqual([4099, 3, 164, 1]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes AddedToken flags as the slow tokenizer does: added_tokens_decoder, else lstrip/rstrip for extra ids', () => {
    const json = JSON.parse(readFileSync(path.join(modelDir, 'tokenizer.json'), 'utf8')) as { added_tokens: Record<string, unknown>[] };
    const plain = { ...json, added_tokens: json.added_tokens.map((t) => ({ ...t, lstrip: false, rstrip: false })) };
    // U+0085 is whitespace to Python's str.rstrip() but the charsmap keeps it (an unknown character),
    // so it shows whether the extra id's lstrip ate it.
    const text = 'x\u0085<extra_id_0>';
    // No added_tokens_decoder (an older tokenizer_config.json): extra ids get lstrip/rstrip=True.
    expect(T5Tokenizer.fromJSON(plain).tokenize(text)).toEqual(['▁x', '<extra_id_0>']);
    expect(tok.tokenize(text)).toEqual(['▁x', '<extra_id_0>']);
    // An explicit added_tokens_decoder entry wins.
    const decoder = { '4099': { content: '<extra_id_0>', lstrip: false, rstrip: false, special: true } };
    expect(T5Tokenizer.fromJSON(plain, { added_tokens_decoder: decoder }).tokenize(text)).toEqual(['▁x', '\u0085', '<extra_id_0>']);
    expect(T5Tokenizer.fromJSON(plain, { added_tokens_decoder: decoder }).encode(text)).toEqual([833, 2, 4099, 1]);
    expect(() => T5Tokenizer.fromJSON(plain, { added_tokens_decoder: { '4099': { content: '<extra_id_1>' } } })).toThrow(
      'Invalid tokenizer config: added_tokens_decoder["4099"] is "<extra_id_1>", but tokenizer.json has "<extra_id_0>" at id 4099',
    );
  });

  it('refuses tokenizer.json components it does not implement', () => {
    const json = JSON.parse(readFileSync(path.join(modelDir, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
    expect(() => T5Tokenizer.fromJSON({ ...json, normalizer: { type: 'Lowercase' } })).toThrow(
      'Invalid tokenizer.json: unsupported normalizer type "Lowercase" (supported: Precompiled, Strip, Replace)',
    );
    expect(() => T5Tokenizer.fromJSON({ ...json, normalizer: { type: 'Replace', pattern: { Regex: ' +' }, content: ' ' } })).toThrow(
      'Invalid tokenizer.json: Replace normalizer {"Regex":" +"} → " " is not supported (only " {2,}" → "▁" or " ")',
    );
    expect(() => T5Tokenizer.fromJSON({ ...json, model: { type: 'BPE' } })).toThrow('Invalid tokenizer.json: model.type must be "Unigram", got "BPE"');
    expect(() => T5Tokenizer.fromJSON(json, { legacy: false })).toThrow(
      'tokenizer_config.json sets "legacy": false; only the legacy T5Tokenizer behaviour (legacy=True) is implemented',
    );
    expect(() => T5Tokenizer.fromJSON([])).toThrow('Invalid tokenizer.json: the top level must be an object');
  });
});

// Each logits processor / warper alone on small hand-worked arrays.
import { describe, expect, it } from 'vitest';
import {
  bannedNgramTokens,
  buildLogitsProcessors,
  buildLogitsWarpers,
  MinLengthProcessor,
  MinNewTokensProcessor,
  NoBadWordsProcessor,
  NoRepeatNGramProcessor,
  RepetitionPenaltyProcessor,
  SuppressTokensProcessor,
  TemperatureWarper,
  TopKWarper,
  TopPWarper,
  type LogitsProcessor,
} from '../../lib/generation/processors.js';
import { resolveGenerationConfig } from '../../lib/generation/config.js';
import { kthLargest, TopCandidates } from '../../lib/generation/select.js';

const I = -Infinity;
const seq = (...ids: number[]) => Int32Array.from(ids);
function run(p: LogitsProcessor, sequences: Int32Array[], rows: number[][]): number[][] {
  const vocab = rows[0]!.length;
  const scores = Float32Array.from(rows.flat());
  p.process(sequences, scores, vocab);
  return rows.map((_, r) => Array.from(scores.subarray(r * vocab, (r + 1) * vocab)));
}

describe('processors', () => {
  it('RepetitionPenalty divides positive and multiplies negative scores of every id seen, start token included', () => {
    // ids seen {0, 2}: 1 → 1/2, 4 → 4/2; -1 (id 1) and -3 (id 3) untouched. Row 2 saw id 1: -1 → -2.
    expect(run(new RepetitionPenaltyProcessor(2), [seq(0, 2, 2), seq(0, 1)], [[1, -1, 4, -3], [1, -1, 4, -3]]))
      .toEqual([[0.5, -1, 2, -3], [0.5, -2, 4, -3]]);
  });

  it('NoRepeatNGram bans the tokens that would repeat an n-gram', () => {
    expect(bannedNgramTokens(seq(0, 5, 3, 5), 2)).toEqual([3]); // bigram (5,3) seen, row ends in 5
    expect(bannedNgramTokens(seq(0, 1, 2, 0, 1), 3)).toEqual([2]); // trigram (0,1,2), row ends in (0,1)
    expect(bannedNgramTokens(seq(0), 3)).toEqual([]); // too short for any trigram
    expect(bannedNgramTokens(seq(0, 4, 4), 2)).toEqual([4]); // (4,4) seen and row ends in 4
    expect(run(new NoRepeatNGramProcessor(2), [seq(0, 2, 0)], [[1, 2, 3, 4]])).toEqual([[1, 2, I, 4]]);
  });

  it('NoBadWords bans single tokens always and the last token of longer words after their prefix', () => {
    const p = new NoBadWordsProcessor([[3], [2, 4], [1]], [1]); // [1] is EOS alone: dropped as in HF
    expect(run(p, [seq(0, 2), seq(0, 4)], [[0, 1, 2, 3, 4], [0, 1, 2, 3, 4]])).toEqual([[0, 1, 2, I, I], [0, 1, 2, I, 4]]);
    // as HF, a word longer than the sequence so far is ignored: [0, 4] after just [0] bans nothing yet
    expect(run(new NoBadWordsProcessor([[0, 4]], [1]), [seq(0)], [[0, 1, 2, 3, 4]])).toEqual([[0, 1, 2, 3, 4]]);
    expect(run(new NoBadWordsProcessor([[0, 4]], [1]), [seq(2, 0)], [[0, 1, 2, 3, 4]])).toEqual([[0, 1, 2, 3, I]]);
  });

  it('MinNewTokens masks EOS until N tokens follow the start token; MinLength counts the start token', () => {
    expect(run(new MinNewTokensProcessor(2, [1]), [seq(0, 5)], [[1, 2, 3]])).toEqual([[1, I, 3]]);
    expect(run(new MinNewTokensProcessor(2, [1]), [seq(0, 5, 6)], [[1, 2, 3]])).toEqual([[1, 2, 3]]);
    expect(run(new MinLengthProcessor(3, [1, 2]), [seq(0, 5)], [[1, 2, 3]])).toEqual([[1, I, I]]);
    expect(run(new MinLengthProcessor(3, [1]), [seq(0, 5, 6)], [[1, 2, 3]])).toEqual([[1, 2, 3]]);
  });

  it('SuppressTokens sets the listed ids to -inf in every row', () => {
    expect(run(new SuppressTokensProcessor([0, 3]), [seq(0), seq(0)], [[1, 2, 3, 4], [5, 6, 7, 8]])).toEqual([[I, 2, 3, I], [I, 6, 7, I]]);
  });
});

describe('warpers', () => {
  it('Temperature divides by T', () => {
    expect(run(new TemperatureWarper(2), [seq(0)], [[1, -2, 4]])).toEqual([[0.5, -1, 2]]);
  });

  it('TopK keeps the k largest and ties with the k-th', () => {
    expect(run(new TopKWarper(2), [seq(0)], [[0.1, 0.5, 0.3, 0.2]]).map((r) => r.map((v) => (v === I ? v : Math.fround(v)))))
      .toEqual([[I, Math.fround(0.5), Math.fround(0.3), I]]);
    expect(run(new TopKWarper(2), [seq(0)], [[1, 3, 2, 3]])).toEqual([[I, 3, I, 3]]);
    expect(run(new TopKWarper(1, 2), [seq(0)], [[1, 3, 2, 0]])).toEqual([[I, 3, 2, I]]); // minTokensToKeep 2
  });

  it('TopP removes the least likely tokens whose cumulative probability is ≤ 1 - p', () => {
    const logits = [0.5, 0.3, 0.15, 0.05].map(Math.log);
    // ascending .05, .15 (cumulative .05, .20 ≤ .25 → removed), .30 (.50), .50 (1.0)
    expect(run(new TopPWarper(0.75), [seq(0)], [logits])).toEqual([[Math.fround(logits[0]!), Math.fround(logits[1]!), I, I]]);
    // p = .01 would remove everything; the most likely token is always kept
    expect(run(new TopPWarper(0.01), [seq(0)], [logits])).toEqual([[Math.fround(logits[0]!), I, I, I]]);
  });
});

describe('processor lists', () => {
  it('follow HF order and add undecodable-id suppression', () => {
    const config = resolveGenerationConfig({ repetitionPenalty: 1.3, noRepeatNgramSize: 2, minNewTokens: 3, suppressTokens: [5] });
    const names = buildLogitsProcessors(config, { vocabSize: 10, decodableVocabSize: 8 }).map((p) => p.constructor.name);
    expect(names).toEqual(['RepetitionPenaltyProcessor', 'NoRepeatNGramProcessor', 'MinNewTokensProcessor', 'SuppressTokensProcessor', 'SuppressTokensProcessor']);
    const last = buildLogitsProcessors(config, { vocabSize: 10, decodableVocabSize: 8 }).at(-1) as SuppressTokensProcessor;
    expect(last.tokenIds).toEqual([8, 9]);
    const optOut = resolveGenerationConfig({ suppressUndecodable: false });
    expect(buildLogitsProcessors(optOut, { vocabSize: 10, decodableVocabSize: 8 })).toEqual([]);
    // HF's sampling default: top-k 50, no temperature, no top-p
    expect(buildLogitsWarpers(resolveGenerationConfig({ doSample: true })).map((p) => p.constructor.name)).toEqual(['TopKWarper']);
    expect(buildLogitsWarpers(resolveGenerationConfig({ doSample: true, temperature: 0.7, topK: 0, topP: 0.9 })).map((p) => p.constructor.name))
      .toEqual(['TemperatureWarper', 'TopPWarper']);
  });
});

describe('selection', () => {
  it('TopCandidates keeps the k best, ties to the lower index, best first', () => {
    const t = new TopCandidates(3);
    [5, 1, 7, 7, 3, 9, 7].forEach((v, i) => t.push(v, i));
    expect(t.sorted()).toEqual([{ value: 9, index: 5 }, { value: 7, index: 2 }, { value: 7, index: 3 }]);
    expect(kthLargest(Float32Array.of(4, 8, 1, 8, 6), 3)).toBe(6);
  });
});

// Greedy, beam search and sampling against hand-worked examples on a table-driven fake decoder.
import { describe, expect, it } from 'vitest';
import { generate, trimmedSequence } from '../../lib/generation/generate.js';
import { FakeModel, fakeInputs, tableFrom } from './fake-session.js';

// Vocabulary: 0 = pad/start, 1 = EOS, 2, 3. Probabilities per decoder history (start token first).
const TABLES = {
  0: {
    '0': [0.05, 0.1, 0.5, 0.35],
    '0,2': [0.05, 0.6, 0.1, 0.25],
    '0,3': [0.05, 0.05, 0.8, 0.1],
    '0,3,2': [0.1, 0.7, 0.1, 0.1],
    '0,2,3': [0.1, 0.2, 0.3, 0.4],
  },
  1: {
    '0': [0.05, 0.05, 0.2, 0.7],
    '0,3': [0.05, 0.05, 0.8, 0.1],
    '0,3,2': [0.1, 0.7, 0.1, 0.1],
  },
};
const FALLBACK = [0.1, 0.45, 0.3, 0.15];
const model = () => new FakeModel(4, tableFrom(TABLES, FALLBACK));
const ln = Math.log;

describe('greedy search', () => {
  it('picks the argmax, stops at EOS and pads finished rows like HF', async () => {
    const m = model();
    const out = await generate(m, fakeInputs([0, 1]), { maxNewTokens: 10 });
    // image 0: 2 (.5) then EOS (.6); image 1: 3 (.7), 2 (.8), EOS (.7)
    expect(out.sequences.map((s) => Array.from(s))).toEqual([[0, 2, 1, 0], [0, 3, 2, 1]]);
    expect(out.lengths).toEqual([3, 4]);
    expect(trimmedSequence(out, 0)).toEqual([0, 2, 1]);
    expect(out.sequencesScores[0]).toBeCloseTo((ln(0.5) + ln(0.6)) / 2, 6);
    expect(out.sequencesScores[1]).toBeCloseTo((ln(0.7) + ln(0.8) + ln(0.7)) / 3, 6);
    // the finished row leaves the cache: the third step feeds only row 1
    expect(m.sessions[0]!.reorders).toEqual([undefined, undefined, [1]]);
    expect(m.sessions[0]!.disposed).toBe(true);
  });

  it('keeps finished rows running on pad when scores are requested, as HF', async () => {
    const m = model();
    const out = await generate(m, fakeInputs([0, 1]), { maxNewTokens: 10, outputScores: true, outputTokenLogprobs: true });
    expect(out.scores!.length).toBe(3);
    expect(m.sessions[0]!.reorders).toEqual([undefined, undefined, undefined]);
    // step 3 scores of the finished row 0 are the model's logits after [0, 2, 1] (fallback table), shifted by 3
    expect(Array.from(out.scores![2]!.subarray(0, 4))).toEqual(FALLBACK.map((p) => Math.fround(ln(p) + 3)));
    expect(out.tokenLogprobs![0]!.length).toBe(2);
    expect(out.tokenLogprobs![1]![2]).toBeCloseTo(ln(0.7), 6);
  });

  it('honours minNewTokens (EOS masked to -inf in the scores) and maxNewTokens', async () => {
    const out = await generate(model(), fakeInputs([0]), { maxNewTokens: 3, minNewTokens: 2, outputScores: true });
    // step 2: EOS banned, so 3 (.25) instead of EOS (.6); step 3 after [0,2,3]: 3 (.4)
    expect(Array.from(out.sequences[0]!)).toEqual([0, 2, 3, 3]);
    expect(out.scores![1]![1]).toBe(-Infinity);
    expect(out.scores![2]![1]).toBe(Math.fround(ln(0.2) + 3));
  });

  it('streams every token through onToken', async () => {
    const events: string[] = [];
    await generate(model(), fakeInputs([0, 1]), { maxNewTokens: 10 }, {
      onToken: (e) => events.push(`${e.row}:${e.step}:${e.token}`),
    });
    expect(events).toEqual(['0:0:2', '1:0:3', '0:1:1', '1:1:2', '1:2:1']);
  });

  it('gives each input the result it has alone', async () => {
    const both = await generate(model(), fakeInputs([0, 1]), { maxNewTokens: 10 });
    const alone = await generate(model(), fakeInputs([1]), { maxNewTokens: 10 });
    expect(trimmedSequence(both, 1)).toEqual(trimmedSequence(alone, 0));
    // the fake shifts logits by the row index, so the fp32 log-softmax may differ in the last bits
    expect(both.sequencesScores[1]).toBeCloseTo(alone.sequencesScores[0]!, 7);
  });
});

describe('beam search (2 beams, worked by hand)', () => {
  // Step 1: beams [0,2] (.5), [0,3] (.35); EOS (.1) has rank 2 ≥ 2 beams, so it is not a hypothesis.
  // Step 2: [0,2]+EOS (.30) rank 0 → hypothesis, score ln(.3)/2; beams [0,3,2] (.28), [0,2,3] (.125).
  // Step 3: [0,3,2]+EOS (.196) rank 0 → hypothesis ln(.196)/3; beams [0,2,3,3] (.05), [0,2,3,2] (.0375).
  //   Not done: worst kept ln(.3)/2 = -0.602 < best possible ln(.196)/3 = -0.543.
  // Step 4 (if allowed): best candidate .0225 → ln(.0225)/4 = -0.949 ≤ -0.602, so done; nothing added.
  const best = ln(0.35 * 0.8 * 0.7) / 3;
  const second = ln(0.5 * 0.6) / 2;

  it('returns the hypotheses best first with HF scores, EOS appended, padding and beam indices', async () => {
    const m = model();
    const out = await generate(m, fakeInputs([0]), { numBeams: 2, numReturnSequences: 2, maxNewTokens: 3 });
    expect(out.sequences.map((s) => Array.from(s))).toEqual([[0, 3, 2, 1], [0, 2, 1, 0]]);
    expect(out.lengths).toEqual([4, 3]);
    expect(out.sequencesScores[0]).toBeCloseTo(best, 6);
    expect(out.sequencesScores[1]).toBeCloseTo(second, 6);
    expect(out.beamIndices!.map((s) => Array.from(s))).toEqual([[0, 1, 0, -1], [0, 0, -1, -1]]);
    expect(m.sessions[0]!.steps).toBe(3);
  });

  it('early stopping: true stops at numBeams hypotheses, false runs the heuristic one step longer', async () => {
    const eager = model();
    await generate(eager, fakeInputs([0]), { numBeams: 2, maxNewTokens: 6, earlyStopping: true });
    expect(eager.sessions[0]!.steps).toBe(3);
    const heuristic = model();
    const out = await generate(heuristic, fakeInputs([0]), { numBeams: 2, maxNewTokens: 6, earlyStopping: false });
    expect(heuristic.sessions[0]!.steps).toBe(4);
    expect(trimmedSequence(out, 0)).toEqual([0, 3, 2, 1]);
    // 'never' (lengthPenalty 1) divides the best candidate by maxLength - 1 = 10, not by the current length:
    // step 4: ln(.0225)/10 = -0.38 > -0.602, step 5: ln(.00675)/10 = -0.50 > -0.602, step 6: ln(.002025)/10 = -0.62:
    // done
    const never = model();
    await generate(never, fakeInputs([0]), { numBeams: 2, maxNewTokens: 10, earlyStopping: 'never' });
    expect(never.sessions[0]!.steps).toBe(6);
  });

  it('lengthPenalty 0 ranks by the plain sum of log-probs', async () => {
    const out = await generate(model(), fakeInputs([0]), { numBeams: 2, numReturnSequences: 2, maxNewTokens: 3, lengthPenalty: 0 });
    expect(out.sequences.map((s) => Array.from(s))).toEqual([[0, 2, 1, 0], [0, 3, 2, 1]]);
    expect(out.sequencesScores[0]).toBeCloseTo(ln(0.3), 6);
    expect(out.sequencesScores[1]).toBeCloseTo(ln(0.196), 6);
  });

  it('gives each input the result it has alone and drops finished inputs from the cache', async () => {
    // image 2 almost never ends (EOS .02 never ranks in the top 2), image 0 is done after step 3
    const table = tableFrom(TABLES, FALLBACK);
    const m = new FakeModel(4, (image, history) => (image === 2 ? [0.1, 0.02, 0.5, 0.38] : table(image, history)));
    const options = { numBeams: 2, maxNewTokens: 6, earlyStopping: true };
    const both = await generate(m, fakeInputs([2, 0]), options);
    const alone = await generate(model(), fakeInputs([0]), options);
    expect(trimmedSequence(both, 1)).toEqual(trimmedSequence(alone, 0));
    expect(both.sequencesScores[1]).toBe(alone.sequencesScores[0]);
    expect(Array.from(both.sequences[0]!)).toEqual([0, 2, 2, 2, 2, 2, 2]);
    expect(m.sessions[0]!.reorders.map((r) => r?.length)).toEqual([undefined, 4, 4, 2, 2, 2]);
  });

  it('with scores requested, keeps done inputs running on pad from row 0 as HF (after their last real step)', async () => {
    const table = tableFrom(TABLES, FALLBACK);
    const m = new FakeModel(4, (image, history) => (image === 2 ? [0.1, 0.02, 0.5, 0.38] : table(image, history)));
    const options = { numBeams: 2, maxNewTokens: 6, earlyStopping: true };
    const plain = await generate(new FakeModel(4, m.table), fakeInputs([0, 2]), options);
    const out = await generate(m, fakeInputs([0, 2]), { ...options, outputScores: true });
    expect(out.sequences.map((s) => Array.from(s))).toEqual(plain.sequences.map((s) => Array.from(s)));
    expect(out.scores!.length).toBe(6);
    const reorders = m.sessions[0]!.reorders;
    // image 0 is done after step 3: its next rows still continue its own beams ([0,2,3] twice), then row 0
    expect(reorders[3]!.slice(0, 2)).toEqual([1, 1]);
    expect(reorders[4]!.slice(0, 2)).toEqual([0, 0]);
    expect(reorders[4]!.length).toBe(4);
  });

  it('tracks the model log-prob of every token when asked', async () => {
    const out = await generate(model(), fakeInputs([0]), { numBeams: 2, maxNewTokens: 3, outputTokenLogprobs: true });
    const lp = out.tokenLogprobs![0]!;
    expect(lp.length).toBe(3);
    [ln(0.35), ln(0.8), ln(0.7)].forEach((v, i) => expect(lp[i]).toBeCloseTo(v, 6));
  });
});

describe('sampling', () => {
  it('is reproducible with a seed and top-k = 1 equals greedy', async () => {
    const options = { maxNewTokens: 8, doSample: true, topK: 0, seed: 1234 };
    const a = await generate(model(), fakeInputs([0, 1]), options);
    const b = await generate(model(), fakeInputs([0, 1]), options);
    expect(a.sequences.map((s) => Array.from(s))).toEqual(b.sequences.map((s) => Array.from(s)));
    expect(a.seed).toBe(1234);
    const top1 = await generate(model(), fakeInputs([0, 1]), { maxNewTokens: 8, doSample: true, topK: 1, seed: 7 });
    const greedy = await generate(model(), fakeInputs([0, 1]), { maxNewTokens: 8 });
    expect(top1.sequences.map((s) => Array.from(s))).toEqual(greedy.sequences.map((s) => Array.from(s)));
  });

  it('draws the first token with the model probabilities (2000 draws, within 4 sigma)', async () => {
    const out = await generate(model(), fakeInputs(new Array(2000).fill(0)), { maxNewTokens: 1, doSample: true, topK: 0, seed: 99 });
    const counts = [0, 0, 0, 0];
    for (const s of out.sequences) counts[s[1]!]! += 1;
    TABLES[0]['0'].forEach((p, v) => {
      const sigma = Math.sqrt(2000 * p * (1 - p));
      expect(Math.abs(counts[v]! - 2000 * p)).toBeLessThan(4 * sigma);
    });
  });

  it('returns numReturnSequences samples per input, grouped per input', async () => {
    const out = await generate(model(), fakeInputs([0, 1]), { maxNewTokens: 1, doSample: true, numReturnSequences: 3, topK: 1, seed: 5 });
    expect(out.sequences.map((s) => s[1])).toEqual([2, 2, 2, 3, 3, 3]);
  });
});

describe('beam sampling', () => {
  it('is reproducible with a seed and, at a very low temperature, picks what beam search picks', async () => {
    const options = { numBeams: 2, numReturnSequences: 2, maxNewTokens: 3, doSample: true, topK: 0, seed: 11 };
    const a = await generate(model(), fakeInputs([0, 1]), options);
    const b = await generate(model(), fakeInputs([0, 1]), options);
    expect(a.sequences.map((s) => Array.from(s))).toEqual(b.sequences.map((s) => Array.from(s)));
    // temperature 0.01 scales every candidate by 100: the draws without replacement follow the ranking
    const cold = await generate(model(), fakeInputs([0]), { ...options, temperature: 0.01 });
    expect(cold.sequences.map((s) => Array.from(s))).toEqual([[0, 3, 2, 1], [0, 2, 1, 0]]);
    expect(cold.sequencesScores[0]).toBeCloseTo(Math.fround((100 * ln(0.35 * 0.8 * 0.7)) / 3), 3);
  });
});

describe('generate errors', () => {
  it('rejects onToken with beam search and ids outside the vocabulary', async () => {
    await expect(generate(model(), fakeInputs([0]), { numBeams: 2 }, { onToken: () => {} })).rejects.toThrow(
      'Expected undefined with beam search (beams are only final at the end) for onToken but received () => {} of type function');
    await expect(generate(model(), fakeInputs([0]), { suppressTokens: [9] })).rejects.toThrow(
      'Expected integer between 0 and 3 for suppressTokens[0] but received 9 of type number');
  });
});

// SCST: baselines and label alignment on hand-worked values, and a controlled toy case where the
// policy-gradient objective must raise the expected reward.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Blip2Model } from '../../lib/model/blip2-model.js';
import { T5Tokenizer } from '../../lib/text/tokenizer.js';
import { CiderDScorer } from '../../lib/metrics/cider.js';
import { baselines, batchCiderReward, ciderReward, resolveScstOptions, scstBackward, sequencesToLabels, stats } from '../../lib/train/scst.js';
import { readSafetensorsFile } from '../../lib/io/safetensors.js';
import { scorerEdgeCase } from '../helpers/goldens.js';
import { TINY, TINY_MODEL } from '../helpers/paths.js';
import { generate } from '../../lib/generation/generate.js';

describe('SCST arithmetic', () => {
  it('mean-of-others and greedy baselines', () => {
    expect(Array.from(baselines([1, 2, 3, 4, 6, 8], 3))).toEqual([2.5, 2, 1.5, 7, 6, 5]);
    expect(Array.from(baselines([1, 2, 3, 4, 6, 8], 3, [10, 20]))).toEqual([10, 10, 10, 20, 20, 20]);
  });

  it('labels are the generated tokens after the start token, EOS kept, -100 padded', () => {
    const seqs = [Int32Array.from([0, 5, 6, 1, 0]), Int32Array.from([0, 7, 1, 0, 0]), Int32Array.from([0, 1, 0, 0, 0])];
    expect(sequencesToLabels(seqs, [4, 3, 2])).toEqual([[5, 6, 1], [7, 1, -100], [1, -100, -100]]);
  });

  it('stats', () => {
    expect(stats([1, 3])).toEqual({ mean: 2, std: 1, min: 1, max: 3 });
  });

  it('options: defaults and errors', () => {
    expect(resolveScstOptions({})).toMatchObject({ samples: 5, baseline: 'greedy', ceWeight: 0.3, rlWeight: 0.7 });
    expect(() => resolveScstOptions({ baseline: 'mean', samples: 1 })).toThrow(
      'Expected integer >= 2 with the mean baseline for samples but received 1 of type number',
    );
    expect(() => resolveScstOptions({ baselines: 'greedy' })).toThrow('Unknown option "baselines" in scst options');
  });

  it("the paper's per-batch reward: document frequencies from the batch, first reference only", () => {
    const refs = new Map([['a', ['a red box', 'a red square']], ['b', ['two blue stars', 'blue stars']], ['c', ['a green ring']]]);
    const got = batchCiderReward(refs)(['a', 'b'], ['a red box', 'blue stars']);
    const expected = new CiderDScorer({ a: ['a red box'], b: ['two blue stars'] }).score(['a', 'b'], ['a red box', 'blue stars']);
    expect(Array.from(got)).toEqual(Array.from(expected));
    // with corpus document frequencies and all references the numbers differ
    const corpus = ciderReward(new CiderDScorer(Object.fromEntries(refs)))(['a', 'b'], ['a red box', 'blue stars']);
    expect(Array.from(corpus)).not.toEqual(Array.from(got));
  });

  it("CIDEr-D rewards are pycocoevalcap's per-image CIDEr-D (scorer_edge_cases.json three_images_mixed)", () => {
    const suite = scorerEdgeCase('three_images_mixed');
    const ids = Object.keys(suite.gts);
    const rewards = ciderReward(new CiderDScorer(suite.gts))(ids, ids.map((id) => suite.res[id]![0]!));
    Array.from(rewards).forEach((r, i) => expect(Math.abs(r - suite.CIDEr_per_image![i]!)).toBeLessThan(1e-12));
  });
});

describe('policy gradient on a toy reward', () => {
  let model: Blip2Model;
  let tokenizer: T5Tokenizer;
  let pixelValues: { data: Float32Array; shape: number[] };
  beforeAll(async () => {
    model = await Blip2Model.load(TINY_MODEL, { threads: 1 });
    tokenizer = await T5Tokenizer.fromPretrained(TINY_MODEL);
    const golden = await readSafetensorsFile(join(TINY, 'golden-forward.safetensors'));
    const px = golden.tensors.get('main.pixel_values')!;
    pixelValues = { data: px.data as Float32Array, shape: px.shape };
  });
  afterAll(() => model?.dispose());

  /** p(first generated token = target) under the current model, per image. */
  async function firstTokenProbability(target: number): Promise<number[]> {
    const session = await model.startDecoding({ pixelValues, inputIds: [[], []] });
    const lp = await session.step(new Int32Array([0, 0]), { output: 'logprobs' });
    session.dispose();
    return [Math.exp(lp[target]!), Math.exp(lp[4128 + target]!)];
  }

  it('raises the expected reward', async () => {
    await model.addLora({ r: 4, alpha: 8, dropout: 0, seed: 11 });
    // the reward: 1 when the caption starts with the word of token `target`, else 0
    const session = await model.startDecoding({ pixelValues, inputIds: [[], []] });
    const lp = await session.step(new Int32Array([0, 0]), { output: 'logprobs' });
    session.dispose();
    const order = Array.from(lp.subarray(0, 4100)).map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]);
    const target = order[3]![1]; // a plausible but not the likeliest first token
    const word = tokenizer.decode([target], { skipSpecialTokens: true });
    const reward = (_ids: readonly string[], captions: readonly string[]) => captions.map((c) => (c.startsWith(word) ? 1 : 0));
    const before = await firstTokenProbability(target);
    const options = resolveScstOptions({ samples: 8, baseline: 'mean', ceWeight: 0, rlWeight: 1, maxNewTokens: 2 });
    const rewards: number[] = [];
    for (let step = 0; step < 12; step++) {
      const r = await scstBackward(model, tokenizer, { imageIds: ['0', '1'], pixelValues, inputIds: [[], []] }, reward, options, 100 + step);
      rewards.push(r.reward.mean);
      await model.optimizerStep({ lr: 0.05, weightDecay: 0 });
    }
    const after = await firstTokenProbability(target);
    console.log(`toy SCST: p(first token = ${target}) ${before.map((p) => p.toFixed(4))} -> ${after.map((p) => p.toFixed(4))}; ` +
      `sampled reward per step ${rewards.map((r) => r.toFixed(2)).join(' ')}`);
    expect(after[0]!).toBeGreaterThan(before[0]! + 0.2);
    expect(after[1]!).toBeGreaterThan(before[1]! + 0.2);
  });

  it('CE + RL: both terms reach the gradients and the loss is their weighted sum', async () => {
    await model.addLora({ r: 4, alpha: 8, dropout: 0, seed: 12 });
    const scorer = new CiderDScorer({ '0': ['a dog running on the beach'], '1': ['two cats'], '2': ['a red car'] });
    const labels = tokenizer.encodeTargets(['a dog running on the beach', 'two cats']).labels;
    const options = resolveScstOptions({ samples: 3, maxNewTokens: 4 });
    const r = await scstBackward(model, tokenizer, { imageIds: ['0', '1'], pixelValues, inputIds: [[], []], labels }, ciderReward(scorer), options, 5);
    expect(r.captions.length).toBe(6);
    expect(r.loss).toBeCloseTo(0.7 * r.rlLoss + 0.3 * r.ceLoss!, 10);
    const grads = await model.loraTensors('grads');
    expect(Object.keys(grads).length).toBe(104);
    await model.zeroGrad();
  });

  it("rlNormalization 'tokens' averages the policy-gradient sum over sampled tokens instead of samples", async () => {
    await model.addLora({ r: 4, alpha: 8, dropout: 0, seed: 13 });
    const reward = (_ids: readonly string[], captions: readonly string[]) => captions.map((c) => c.length / 10);
    const batch = { imageIds: ['0', '1'], pixelValues, inputIds: [[], []] };
    const base = { samples: 3, baseline: 'mean', ceWeight: 0, rlWeight: 1, maxNewTokens: 6 };
    const perSeq = await scstBackward(model, tokenizer, batch, reward, resolveScstOptions({ ...base, rlNormalization: 'sequences' }), 21);
    await model.zeroGrad();
    const perTok = await scstBackward(model, tokenizer, batch, reward, resolveScstOptions(base), 21);
    await model.zeroGrad();
    expect(perTok.captions).toEqual(perSeq.captions); // same seed, same samples
    const ids = perSeq.captions.map((c) => tokenizer.encodeTargets([c]).labels[0]!.filter((t) => t !== -100).length);
    // sampled rows of 6 new tokens at most; EOS counts as a token when generated
    const tokens = ids.reduce((a, b) => a + b, 0);
    expect(tokens).toBeGreaterThan(6);
    expect(perTok.rlLoss / perSeq.rlLoss).toBeCloseTo(6 / tokens, 1);
  });

  it("sampling 'beam' rewards the beam search's best hypotheses", async () => {
    await model.addLora({ r: 4, alpha: 8, dropout: 0, seed: 14 });
    const seen: string[][] = [];
    const reward = (_ids: readonly string[], captions: readonly string[]) => {
      seen.push([...captions]);
      return captions.map((_, i) => i % 2);
    };
    const options = resolveScstOptions({ samples: 4, sampling: 'beam', baseline: 'mean', ceWeight: 0, rlWeight: 1, maxNewTokens: 5 });
    const r = await scstBackward(model, tokenizer, { imageIds: ['0', '1'], pixelValues, inputIds: [[], []] }, reward, options, 3);
    await model.zeroGrad();
    const again = await scstBackward(model, tokenizer, { imageIds: ['0', '1'], pixelValues, inputIds: [[], []] }, reward, options, 99);
    await model.zeroGrad();
    expect(again.captions).toEqual(r.captions); // deterministic: the seed does not matter
    const beams = await generate(model, { pixelValues, inputIds: [[], []] }, { numBeams: 4, numReturnSequences: 4, maxNewTokens: 5 }, { decodableVocabSize: tokenizer.vocabSize });
    expect(r.captions).toEqual(beams.sequences.map((s) => tokenizer.decode(Array.from(s), { skipSpecialTokens: true })));
    expect(() => resolveScstOptions({ sampling: 'nucleus' })).toThrow('sampling');
  });
});

/**
 * Self-Critical Sequence Training (Rennie et al. 2017), done the way the paper's code should have:
 * several samples per image, a greedy (Rennie) or mean-of-the-other-samples (Luo 2020) baseline, rewards from a
 * caller-supplied function (CIDEr-D against all of an image's references with document frequencies from the
 * whole training corpus: {@link ciderReward}), and the log-probability of each sampled token read at the
 * position that predicts it. loss = ceWeight·CE(references) + rlWeight·RL.
 */
import { invalidParameterError } from '../is.js';
import { choiceKey, integerKey, numberKey, readTable, type ConfigTable } from '../config-table.js';
import { generate } from '../generation/generate.js';
import type { GenerationOptions } from '../generation/config.js';
import type { Blip2Model } from '../model/blip2-model.js';
import { CiderDScorer, CiderDScorer as CiderDScorerImpl } from '../metrics/cider.js';
import type { Tokenizer } from '../text/encoding.js';

/** Rewards for sampled captions: one number per caption, rows aligned with `imageIds`. */
export type RewardFunction = (imageIds: readonly string[], captions: readonly string[]) => ArrayLike<number>;

/** CIDEr-D rewards from a scorer built once over the training corpus's references. */
export function ciderReward(scorer: CiderDScorer): RewardFunction {
  return (imageIds, captions) => scorer.score([...imageIds], [...captions]);
}

/**
 * The paper's code's reward, kept for the ablation: CIDEr-D with document frequencies from the current batch's
 * references only, and one reference per image (the first).
 */
export function batchCiderReward(references: ReadonlyMap<string, readonly string[]>): RewardFunction {
  return (imageIds, captions) => {
    const refs = new Map<string, string[]>();
    for (const id of imageIds) {
      const r = references.get(id);
      if (!r || r.length === 0) throw new Error(`No references for image ${JSON.stringify(id)}`);
      refs.set(id, [r[0]!]);
    }
    return new CiderDScorerImpl(refs).score([...imageIds], [...captions]);
  };
}

export interface ScstOptions {
  /** Sampled captions per image. Default 5. */
  samples?: number;
  /**
   * 'greedy': the greedy caption's reward (Rennie); 'mean': the mean reward of the image's other samples (Luo). Default
   * 'greedy'.
   */
  baseline?: 'greedy' | 'mean';
  /** Weight of the cross-entropy on reference captions. Default 0.3. */
  ceWeight?: number;
  /** Weight of the policy-gradient loss. Default 0.7. */
  rlWeight?: number;
  /**
   * How the captions to reward are drawn. 'multinomial' (default): `samples` independent samples (Rennie et al.).
   * 'beam': the `samples` best hypotheses of a beam search of that width (Cornia et al.'s meshed-memory
   * transformer), which stay close to the mode when the model's distribution is still broad; use it with the
   * 'mean' baseline. temperature / topP / topK apply to 'multinomial' only.
   */
  sampling?: 'multinomial' | 'beam';
  /** Sampling temperature. Default 1. */
  temperature?: number;
  /** Nucleus sampling threshold. Default 1 (off). */
  topP?: number;
  /** Top-k sampling. Default 0 (off). */
  topK?: number;
  /** Longest sampled caption. Default 24. */
  maxNewTokens?: number;
  /** Extra generation settings (e.g. suppressTokens) for both the samples and the greedy baseline. */
  generation?: GenerationOptions;
  /**
   * 'corpus' (default): CIDEr-D against all references, document frequencies from the whole training corpus.
   * 'batch': the paper's code — document frequencies from the batch, one reference per image (for ablations).
   */
  reward?: 'corpus' | 'batch';
  /**
   * How the policy-gradient sum is averaged. 'tokens' (default): over all sampled tokens, on the same per-token
   * scale as the cross-entropy term, so ceWeight / rlWeight mean what they say. 'sequences': over samples (each
   * caption's log-probability summed over its tokens, as in Rennie et al.'s equation), which makes RL ~10x
   * the CE term on captions of ~10 tokens.
   */
  rlNormalization?: 'tokens' | 'sequences';
}

export type ResolvedScstOptions = Required<Omit<ScstOptions, 'generation'>> & { generation: GenerationOptions };

/** The keys of {@link ScstOptions} (a run config stage's `scst`): readers and the reference's documentation. */
export const SCST_KEYS = {
  samples: integerKey(1, 64, 5, 'Captions drawn per image (at least 2 with the mean baseline).'),
  baseline: choiceKey(['greedy', 'mean'], 'greedy', '`greedy`: the greedy caption\'s reward (Rennie); `mean`: the mean reward of the image\'s other samples (Luo).'),
  ceWeight: numberKey(0, 100, 0.3, 'Weight of the cross-entropy on reference captions.'),
  rlWeight: numberKey(0, 100, 0.7, 'Weight of the policy-gradient loss.'),
  sampling: choiceKey(['multinomial', 'beam'], 'multinomial', '`multinomial`: independent samples; `beam`: the best hypotheses of a beam search of width `samples` (use it with the mean baseline).'),
  temperature: numberKey(1e-3, 100, 1, 'Sampling temperature (multinomial only).'),
  topP: numberKey(1e-6, 1, 1, 'Nucleus sampling threshold, 1 = off (multinomial only).'),
  topK: integerKey(0, 1_000_000, 0, 'Top-k sampling, 0 = off (multinomial only).'),
  maxNewTokens: integerKey(1, 1024, 24, 'Longest sampled caption.'),
  generation: {
    type: 'object', default: '{}', doc: 'Extra generation settings (e.g. `suppressTokens`) for the samples and the greedy baseline.',
    read: (value: unknown) => (value as GenerationOptions | undefined) ?? {},
  },
  reward: choiceKey(['corpus', 'batch'], 'corpus', '`corpus`: CIDEr-D against all references, document frequencies from the whole training set; `batch`: the paper\'s code (the batch\'s frequencies, one reference).'),
  rlNormalization: choiceKey(['tokens', 'sequences'], 'tokens', 'The policy-gradient sum averaged over sampled tokens (the CE term\'s scale) or over captions (Rennie\'s equation, about 10× larger).'),
} satisfies ConfigTable;

/**
 * Validates SCST options and applies the defaults (the paper's 0.3 / 0.7 loss weights). Errors name a key as
 * `prefix + key` and unknown keys as being in `where` (a run config passes `stages[k].scst` and `stages[k].scst.`).
 */
export function resolveScstOptions(options: unknown, where = 'scst options', prefix = ''): ResolvedScstOptions {
  const o = readTable(SCST_KEYS, options, where, prefix);
  if (o.baseline === 'mean' && o.samples < 2) throw invalidParameterError(`${prefix}samples`, 'integer >= 2 with the mean baseline', o.samples);
  return o;
}

/** One SCST batch: images with their ids (for rewards), the prompt, and reference labels for the CE term. */
export interface ScstBatch {
  imageIds: readonly string[];
  pixelValues: { data: Float32Array; shape: number[] };
  inputIds: number[][];
  attentionMask?: number[][];
  /** Reference caption labels (-100 padded) for the CE term; required when ceWeight > 0. */
  labels?: number[][];
}

/** Summary statistics of a set of numbers. */
export interface Stats {
  mean: number;
  std: number;
  min: number;
  max: number;
}

export interface ScstStepResult {
  /** ceWeight·CE + rlWeight·RL. */
  loss: number;
  ceLoss: number | undefined;
  rlLoss: number;
  reward: Stats;
  baseline: Stats;
  advantage: Stats;
  /** The sampled captions, grouped per image. */
  captions: string[];
  /** Where the time went, milliseconds: sampling and the greedy baseline, rewards, backward passes. */
  timings: { generateMs: number; rewardMs: number; backwardMs: number };
}

export function stats(values: ArrayLike<number>): Stats {
  const n = values.length;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    sum += values[i]!;
    min = Math.min(min, values[i]!);
    max = Math.max(max, values[i]!);
  }
  const mean = n ? sum / n : 0;
  let sq = 0;
  for (let i = 0; i < n; i++) sq += (values[i]! - mean) ** 2;
  return { mean, std: n ? Math.sqrt(sq / n) : 0, min: n ? min : 0, max: n ? max : 0 };
}

/** Baselines per sample: the greedy reward of its image, or the mean reward of the image's other samples. */
export function baselines(rewards: ArrayLike<number>, samples: number, greedy?: ArrayLike<number>): Float64Array {
  const out = new Float64Array(rewards.length);
  for (let i = 0; i < rewards.length; i++) {
    const image = Math.floor(i / samples);
    if (greedy) {
      out[i] = greedy[image]!;
    } else {
      let sum = 0;
      for (let k = 0; k < samples; k++) sum += rewards[image * samples + k]!;
      out[i] = (sum - rewards[i]!) / (samples - 1);
    }
  }
  return out;
}

/** Generated rows (start token first) -> label rows: the tokens after the start, EOS included, -100 padded. */
export function sequencesToLabels(sequences: readonly Int32Array[], lengths: readonly number[]): number[][] {
  const rows = sequences.map((seq, i) => Array.from(seq.subarray(1, Math.max(2, lengths[i]!))));
  const width = Math.max(...rows.map((r) => r.length));
  return rows.map((r) => [...r, ...new Array<number>(width - r.length).fill(-100)]);
}

/**
 * Samples captions, scores them, and backpropagates rlWeight·RL (+ ceWeight·CE on the references) into the
 * adapters' gradients; the caller applies the optimizer step. Sampling and the greedy baseline run with adapter
 * dropout off; the model's training flag is restored for the backward pass.
 */
export async function scstBackward(
  model: Blip2Model,
  tokenizer: Tokenizer,
  batch: ScstBatch,
  reward: RewardFunction,
  options: ResolvedScstOptions,
  seed: number,
): Promise<ScstStepResult> {
  const n = batch.imageIds.length;
  if (batch.pixelValues.shape[0] !== n) throw invalidParameterError('imageIds', `${batch.pixelValues.shape[0]} ids (one per image)`, batch.imageIds);
  if (options.ceWeight > 0 && !batch.labels) throw invalidParameterError('labels', 'reference label rows when ceWeight > 0', undefined);
  const inputs = { pixelValues: batch.pixelValues, inputIds: batch.inputIds, ...(batch.attentionMask ? { attentionMask: batch.attentionMask } : {}) };
  const hooks = { decodableVocabSize: tokenizer.vocabSize };
  const t0 = performance.now();
  const wasTraining = model.training;
  await model.setTraining(false);
  let sampled;
  let greedy;
  try {
    sampled = await generate(model, inputs, options.sampling === 'beam'
      ? { ...options.generation, numBeams: options.samples, numReturnSequences: options.samples, maxNewTokens: options.maxNewTokens }
      : {
          ...options.generation, doSample: true, numReturnSequences: options.samples, temperature: options.temperature,
          topP: options.topP, topK: options.topK, maxNewTokens: options.maxNewTokens, seed,
        }, hooks);
    if (options.baseline === 'greedy') {
      greedy = await generate(model, inputs, { ...options.generation, maxNewTokens: options.maxNewTokens }, hooks);
    }
  } finally {
    await model.setTraining(wasTraining);
  }
  const t1 = performance.now();
  const captions = sampled.sequences.map((s) => tokenizer.decode(Array.from(s), { skipSpecialTokens: true }));
  const sampleIds = batch.imageIds.flatMap((id) => Array.from({ length: options.samples }, () => id));
  const rewards = Float64Array.from(reward(sampleIds, captions));
  let greedyRewards: Float64Array | undefined;
  if (greedy) {
    const texts = greedy.sequences.map((s) => tokenizer.decode(Array.from(s), { skipSpecialTokens: true }));
    greedyRewards = Float64Array.from(reward(batch.imageIds, texts));
  }
  const base = baselines(rewards, options.samples, greedyRewards);
  const advantages = rewards.map((r, i) => r - base[i]!);
  const t2 = performance.now();

  let rlLoss = 0;
  if (options.rlWeight > 0) {
    const labels = sequencesToLabels(sampled.sequences, sampled.lengths);
    // backwardWeighted averages over rows; rows/tokens turns that into an average over tokens
    const tokens = labels.reduce((sum, row) => sum + row.filter((t) => t !== -100).length, 0);
    const perRow = options.rlNormalization === 'tokens' ? labels.length / Math.max(1, tokens) : 1;
    ({ loss: rlLoss } = await model.backwardWeighted({ ...inputs, labels, imageRepeat: options.samples }, Float32Array.from(advantages, (a) => a * perRow), { scale: options.rlWeight }));
  }
  let ceLoss: number | undefined;
  if (options.ceWeight > 0) {
    ceLoss = await model.backwardCrossEntropy({ ...inputs, labels: batch.labels! }, { scale: options.ceWeight });
  }
  return {
    loss: options.rlWeight * rlLoss + options.ceWeight * (ceLoss ?? 0),
    ceLoss,
    rlLoss,
    reward: stats(rewards),
    baseline: stats(base),
    advantage: stats(advantages),
    captions,
    timings: { generateMs: t1 - t0, rewardMs: t2 - t1, backwardMs: performance.now() - t2 },
  };
}

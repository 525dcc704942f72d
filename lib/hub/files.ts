/**
 * The files a BLIP-2 model directory needs, as the loaders read them: lib/model/config.ts (config.json),
 * lib/image/processor.ts (preprocessor_config.json), lib/text/load.ts (tokenizer.json, or an OPT checkpoint's
 * vocab.json + merges.txt, and when present tokenizer_config.json, special_tokens_map.json, added_tokens.json;
 * spiece.model is never read),
 * lib/generation/config.ts (generation_config.json when present) and the addon's weights reader
 * (model.safetensors.index.json and its shards, which win over model.safetensors).
 */

/** Needed in every snapshot (and one of {@link TOKENIZER_FILE_SETS}). */
export const REQUIRED_FILES = ['config.json', 'preprocessor_config.json'] as const;
/** The tokenizer: a snapshot needs every file of at least one set, and every file of either set it has is fetched. */
export const TOKENIZER_FILE_SETS: readonly (readonly string[])[] = [['tokenizer.json'], ['vocab.json', 'merges.txt']];
/** Read when the repo has them. */
export const OPTIONAL_FILES = ['generation_config.json', 'tokenizer_config.json', 'special_tokens_map.json', 'added_tokens.json'] as const;

/** True when `has` holds every file of one tokenizer set. */
export function hasTokenizer(has: (file: string) => boolean): boolean {
  return TOKENIZER_FILE_SETS.some((set) => set.every(has));
}

const NEEDED = 'needed: config.json, preprocessor_config.json, tokenizer.json (or vocab.json and merges.txt) and safetensors weights';
export const SAFETENSORS_INDEX = 'model.safetensors.index.json';
export const SAFETENSORS_SINGLE = 'model.safetensors';
const PICKLED_WEIGHTS = ['pytorch_model.bin', 'pytorch_model.bin.index.json'];

/** How a repo or snapshot stores its weights. */
export type WeightsLayout = 'index' | 'single';

/** The error for weights this library cannot read: pickles are never loaded (they can run code). */
export function pickledWeightsError(label: string, where: string, repoId = 'org/name', revision = 'main'): Error {
  const load = `'${repoId}', revision='${revision}'`;
  return new Error(
    `${label} has only PyTorch pickle weights (pytorch_model.bin) in ${where}; this library reads safetensors only and ` +
      'never unpickles. Pick a revision or repo that has model.safetensors, or convert once with Python: ' +
      `python -c "from transformers import Blip2ForConditionalGeneration as M, Blip2Processor as P; ` +
      `M.from_pretrained(${load}).save_pretrained('blip2-safetensors', safe_serialization=True); ` +
      `P.from_pretrained(${load}).save_pretrained('blip2-safetensors')" and pass the directory blip2-safetensors`,
  );
}

/**
 * The weights layout among `files` (a repo's file list or a snapshot's contents): the sharded index wins, as in
 * the addon. Pickle-only and weightless lists are errors naming `label` and `where`.
 */
export function weightsLayout(files: ReadonlySet<string>, label: string, where: string, repoId?: string, revision?: string): WeightsLayout {
  if (files.has(SAFETENSORS_INDEX)) return 'index';
  if (files.has(SAFETENSORS_SINGLE)) return 'single';
  if (PICKLED_WEIGHTS.some((f) => files.has(f))) throw pickledWeightsError(label, where, repoId, revision);
  throw new Error(`${label} has no ${SAFETENSORS_SINGLE} or ${SAFETENSORS_INDEX} in ${where}`);
}

/**
 * The shard file names of a parsed model.safetensors.index.json, in first-use order; each must be a plain file
 * name, as the addon requires.
 */
export function indexShards(index: unknown, file: string): string[] {
  const map = (index as { weight_map?: unknown } | null)?.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new Error(`Invalid checkpoint index ${file}: no "weight_map" object`);
  }
  const shards: string[] = [];
  for (const [name, shard] of Object.entries(map)) {
    if (typeof shard !== 'string' || shard.length === 0 || shard.includes('/') || shard.includes('\\') || shard === '..') {
      throw new Error(`Invalid checkpoint index ${file}: shard of ${JSON.stringify(name)} is not a file name`);
    }
    if (!shards.includes(shard)) shards.push(shard);
  }
  return shards;
}

/**
 * The files to fetch from a repo whose file list is `repoFiles`, the weights excepted: the required ones (an
 * error lists those the repo lacks) and the optional ones it has.
 */
export function configFiles(repoFiles: ReadonlySet<string>, label: string): string[] {
  const missing: string[] = REQUIRED_FILES.filter((f) => !repoFiles.has(f));
  if (!hasTokenizer((f) => repoFiles.has(f))) missing.push('tokenizer.json (or vocab.json and merges.txt)');
  if (missing.length > 0) throw new Error(`${label} is not a BLIP-2 model this library can load: it has no ${missing.join(', ')} (${NEEDED})`);
  const tokenizer = TOKENIZER_FILE_SETS.filter((set) => set.every((f) => repoFiles.has(f))).flat();
  return [...REQUIRED_FILES, ...tokenizer, ...OPTIONAL_FILES.filter((f) => repoFiles.has(f))];
}

/**
 * METEOR as computed by NLTK 3.8 (`nltk.translate.meteor_score`), called the way Hugging Face
 * `evaluate` calls it. Work in progress: the interface is final, internals are being filled in.
 */

/** Corpus METEOR and the per-image scores it averages. */
export interface MeteorResult {
  /** `np.mean` of `perImage`. */
  score: number;
  /** METEOR of each image: the maximum over its references of the single-reference score. */
  perImage: number[];
}

/**
 * METEOR (NLTK 3.8, alpha 0.9, beta 3, gamma 0.5) of raw captions.
 * @param references `references[i]` holds the raw reference strings of image i.
 * @param candidates `candidates[i]` is the raw candidate string of image i.
 */
export function meteor(references: string[][], candidates: string[]): MeteorResult {
  const perImage = candidates.map(() => 0);
  void references;
  return { score: 0, perImage };
}

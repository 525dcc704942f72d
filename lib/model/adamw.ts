/** AdamW hyper-parameters (torch.optim.AdamW's defaults), validated. */
import { knownKeys, numberInRange, optional, positiveNumber } from '../is.js';
import type { NativeAdamWOptions } from '../native.js';
import { ArgumentError } from '../errors.js';

/** Options of one optimizer step. */
export interface AdamWOptions {
  /** Learning rate for this step (schedules set it per step). */
  lr: number;
  /** Clip the global gradient L2 norm to this value first; 0 or absent = no clipping. */
  maxGradNorm?: number;
  /** Default [0.9, 0.999]. */
  betas?: [number, number];
  /** Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay. Default 0.01. */
  weightDecay?: number;
}

/**
 * Validates one step's options and fills in torch.optim.AdamW's defaults: the only place they are written, since the
 * addon requires every field.
 */
export function resolveAdamW(options: unknown): NativeAdamWOptions {
  const o = knownKeys('optimizer options', options, ['lr', 'maxGradNorm', 'betas', 'eps', 'weightDecay']);
  const betas = (o.betas ?? [0.9, 0.999]) as unknown;
  if (!Array.isArray(betas) || betas.length !== 2) {
    throw new ArgumentError(`Expected [beta1, beta2] for betas but received ${JSON.stringify(betas)}`, { argument: 'betas' });
  }
  return {
    lr: numberInRange('lr', o.lr, 0, 10),
    maxGradNorm: optional(o.maxGradNorm, 0, (v) => numberInRange('maxGradNorm', v, 0, 1e9)),
    beta1: numberInRange('betas[0]', betas[0], 0, 0.999999),
    beta2: numberInRange('betas[1]', betas[1], 0, 0.999999999),
    eps: optional(o.eps, 1e-8, (v) => positiveNumber('eps', v)),
    weightDecay: optional(o.weightDecay, 0.01, (v) => numberInRange('weightDecay', v, 0, 10)),
  };
}

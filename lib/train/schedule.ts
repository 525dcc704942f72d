/**
 * Learning-rate schedules with linear warm-up, as transformers' get_{constant,linear,cosine}_schedule_with_warmup,
 * plus an optional floor (`minLrRatio`, e.g. "cosine to 5 %").
 */
import { integerInRange, knownKeys, numberInRange, oneOf, optional } from '../is.js';

export type ScheduleKind = 'constant' | 'linear' | 'cosine';

export interface ScheduleOptions {
  /** Shape after warm-up. Default 'cosine'. */
  kind?: ScheduleKind;
  /** Peak learning rate. */
  lr: number;
  /** Steps of linear warm-up from 0. Default 0. */
  warmupSteps?: number;
  /** Total optimizer steps (needed by linear and cosine). */
  totalSteps: number;
  /** The learning rate never falls below lr × minLrRatio. Default 0. */
  minLrRatio?: number;
}

export type Schedule = Required<ScheduleOptions>;

/** Validates schedule options and fills defaults. */
export function resolveSchedule(options: unknown): Schedule {
  const o = knownKeys('schedule', options, ['kind', 'lr', 'warmupSteps', 'totalSteps', 'minLrRatio']);
  const s: Schedule = {
    kind: optional(o.kind, 'cosine', (v) => oneOf('kind', v, ['constant', 'linear', 'cosine'] as const)),
    lr: numberInRange('lr', o.lr, 0, 10),
    warmupSteps: optional(o.warmupSteps, 0, (v) => integerInRange('warmupSteps', v, 0, 1e9)),
    totalSteps: integerInRange('totalSteps', o.totalSteps, 1, 1e9),
    minLrRatio: optional(o.minLrRatio, 0, (v) => numberInRange('minLrRatio', v, 0, 1)),
  };
  return s;
}

/** The learning rate of optimizer step `step` (0-based: the first step is 0). */
export function learningRate(schedule: Schedule, step: number): number {
  const { kind, lr, warmupSteps, totalSteps, minLrRatio } = schedule;
  if (step < warmupSteps) return lr * (step / Math.max(1, warmupSteps));
  let factor: number;
  if (kind === 'constant') {
    factor = 1;
  } else {
    const progress = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
    // transformers: linear max(0, (total - step) / (total - warmup)); cosine 0.5 (1 + cos(pi * progress))
    factor = kind === 'linear' ? Math.max(0, 1 - progress) : Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
  }
  return lr * (minLrRatio + (1 - minLrRatio) * factor);
}

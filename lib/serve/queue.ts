/**
 * A bounded work queue: at most `concurrency` tasks run (model calls share the machine's cores, so the default
 * is one), at most `maxWaiting` wait; a further task is refused at once with a retry estimate, and a task that
 * is not done within its deadline is answered with a timeout (while waiting it is dropped; while running its
 * signal is aborted and its slot stays taken until the work really ends, so the queue never over-commits the
 * machine). A caller that gives up (its signal aborts) is treated the same way: dropped while waiting, never run.
 */
import { integerInRange, knownKeys, optional } from '../is.js';

/** Options of {@link WorkQueue}. */
export interface WorkQueueOptions {
  /** Tasks run at once. Default 1. */
  concurrency?: number;
  /** Tasks allowed to wait; 0 refuses any task while all slots are busy. Default 8. */
  maxWaiting?: number;
}

/** The queue is full; `retryAfterSeconds` estimates when a slot frees up. */
export class QueueFullError extends Error {
  override name = 'QueueFullError';
  constructor(readonly retryAfterSeconds: number, waiting: number) {
    super(`The server is busy: ${waiting} requests are already waiting; retry in about ${retryAfterSeconds} s`);
  }
}

/** A task did not finish within its deadline. */
export class QueueTimeoutError extends Error {
  override name = 'QueueTimeoutError';
  constructor(readonly timeoutMs: number, readonly phase: 'waiting' | 'running') {
    super(`The request took longer than ${timeoutMs} ms (${phase === 'waiting' ? 'still waiting in the queue' : 'still captioning'})`);
  }
}

/** Counters of a {@link WorkQueue}, as reported by the health endpoint. */
export interface QueueStats {
  running: number;
  waiting: number;
  concurrency: number;
  maxWaiting: number;
  completed: number;
  timedOut: number;
  rejected: number;
  /** Tasks whose caller aborted: dropped while waiting, or told to stop while running. */
  abandoned: number;
}

interface Waiter {
  start: () => void;
}

export class WorkQueue {
  private readonly concurrency: number;
  private readonly maxWaiting: number;
  private readonly waiters: Waiter[] = [];
  private running = 0;
  private completed = 0;
  private timedOut = 0;
  private rejected = 0;
  private abandoned = 0;
  /** Mean task duration (exponential moving average), for Retry-After. */
  private meanMs = 1000;

  constructor(options?: WorkQueueOptions) {
    const o = knownKeys('queue options', options, ['concurrency', 'maxWaiting']);
    this.concurrency = optional(o.concurrency, 1, (v) => integerInRange('concurrency', v, 1, 1024));
    this.maxWaiting = optional(o.maxWaiting, 8, (v) => integerInRange('maxWaiting', v, 0, 1 << 20));
  }

  /** Current counters. */
  get stats(): QueueStats {
    return {
      running: this.running, waiting: this.waiters.length, concurrency: this.concurrency, maxWaiting: this.maxWaiting,
      completed: this.completed, timedOut: this.timedOut, rejected: this.rejected, abandoned: this.abandoned,
    };
  }

  /** Seconds until a slot is likely free: the work ahead divided among the slots (at least 1). */
  retryAfterSeconds(): number {
    const ahead = this.running + this.waiters.length;
    return Math.max(1, Math.ceil((ahead * this.meanMs) / this.concurrency / 1000));
  }

  /** Whether a new task would be refused now (every slot busy and `maxWaiting` tasks waiting). */
  get full(): boolean {
    return this.running >= this.concurrency && this.waiters.length >= this.maxWaiting;
  }

  /** Counts a task refused because the queue is {@link full} (also before it was submitted) and returns the error. */
  refuse(): QueueFullError {
    this.rejected++;
    return new QueueFullError(this.retryAfterSeconds(), this.waiters.length);
  }

  /**
   * Runs `task` when a slot is free. The task gets a signal that aborts at the deadline or when `signal` aborts;
   * it should stop soon after (its slot stays taken until it does).
   *
   * @param timeoutMs deadline from now (waiting included); 0 for none
   * @param signal the caller giving up: a waiting task is dropped, a running one aborted; rejects with its reason
   * @throws QueueFullError at once when `maxWaiting` tasks already wait; QueueTimeoutError past the deadline
   */
  run<T>(task: (signal: AbortSignal) => Promise<T>, timeoutMs = 0, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) {
      this.abandoned++;
      return Promise.reject(signal.reason);
    }
    if (this.full) return Promise.reject(this.refuse());
    return new Promise<T>((resolve, reject) => {
      const controller = new AbortController();
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onCallerAbort);
        fn();
      };
      /** Drops the task if it still waits, or tells it to stop; the caller hears `reason` at once. */
      const giveUp = (reason: unknown) => {
        const index = this.waiters.indexOf(waiter);
        if (index !== -1) this.waiters.splice(index, 1);
        controller.abort(reason);
        settle(() => reject(reason));
      };
      const onCallerAbort = () => {
        if (settled) return;
        this.abandoned++;
        giveUp(signal!.reason);
      };
      const waiter: Waiter = {
        start: () => {
          this.running++;
          const started = performance.now();
          const finish = () => {
            this.running--;
            this.completed++;
            this.meanMs = 0.8 * this.meanMs + 0.2 * (performance.now() - started);
          };
          // the slot is freed before the caller hears back, so the counters are current when it does
          Promise.resolve(controller.signal).then(task).then(
            (value) => { finish(); settle(() => resolve(value)); this.next(); },
            (error: unknown) => { finish(); settle(() => reject(error)); this.next(); },
          );
        },
      };
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          this.timedOut++;
          const waiting = this.waiters.includes(waiter);
          giveUp(new QueueTimeoutError(timeoutMs, waiting ? 'waiting' : 'running'));
        }, timeoutMs);
        timer.unref?.();
      }
      signal?.addEventListener('abort', onCallerAbort, { once: true });
      this.waiters.push(waiter);
      this.next();
    });
  }

  private next(): void {
    while (this.running < this.concurrency && this.waiters.length > 0) this.waiters.shift()!.start();
  }
}

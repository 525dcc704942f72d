import { describe, expect, it } from 'vitest';
import { QueueFullError, QueueTimeoutError, WorkQueue } from '../../lib/serve/queue.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => { resolve = r; });
  return { promise, resolve };
}

describe('WorkQueue', () => {
  it('runs one task at a time in arrival order', async () => {
    const queue = new WorkQueue({ maxWaiting: 4 });
    const order: string[] = [];
    const gate = deferred();
    const a = queue.run(async () => { order.push('a start'); await gate.promise; order.push('a end'); return 1; });
    const b = queue.run(async () => { order.push('b'); return 2; });
    expect(queue.stats).toMatchObject({ running: 1, waiting: 1 });
    gate.resolve();
    expect(await Promise.all([a, b])).toEqual([1, 2]);
    expect(order).toEqual(['a start', 'a end', 'b']);
    expect(queue.stats).toEqual({ running: 0, waiting: 0, concurrency: 1, maxWaiting: 4, completed: 2, timedOut: 0, rejected: 0, abandoned: 0 });
  });

  it('refuses a task when maxWaiting tasks wait, with a retry estimate', async () => {
    const queue = new WorkQueue({ maxWaiting: 1 });
    const gate = deferred();
    const a = queue.run(() => gate.promise);
    const b = queue.run(() => gate.promise);
    // 2 tasks ahead x the initial 1 s estimate / 1 slot
    await expect(queue.run(() => gate.promise)).rejects.toThrow(new QueueFullError(2, 1));
    await expect(queue.run(() => gate.promise)).rejects.toThrow('The server is busy: 1 requests are already waiting; retry in about 2 s');
    expect(queue.stats.rejected).toBe(2);
    gate.resolve();
    await Promise.all([a, b]);
  });

  it('times out a waiting task (dropped) and a running one (slot kept until it ends)', async () => {
    const queue = new WorkQueue({ maxWaiting: 2 });
    const gate = deferred();
    let ranB = false;
    const a = queue.run(() => gate.promise, 20);
    const b = queue.run(async () => { ranB = true; }, 10);
    await expect(b).rejects.toThrow(new QueueTimeoutError(10, 'waiting'));
    await expect(b).rejects.toThrow('The request took longer than 10 ms (still waiting in the queue)');
    await expect(a).rejects.toThrow('The request took longer than 20 ms (still captioning)');
    expect(queue.stats).toMatchObject({ running: 1, waiting: 0, timedOut: 2 });
    gate.resolve();
    await queue.run(async () => {});
    expect(ranB).toBe(false);
    expect(queue.stats).toMatchObject({ running: 0, completed: 2 });
  });

  it('drops a waiting task whose caller aborts (never run) and aborts a running one, freeing the slot when it ends', async () => {
    const queue = new WorkQueue({ maxWaiting: 2 });
    const gate = deferred();
    const caller = new AbortController();
    let seenByTask: AbortSignal | undefined;
    let ranB = false;
    const a = queue.run(async (signal) => { seenByTask = signal; await gate.promise; }, 0, caller.signal);
    const waitingCaller = new AbortController();
    const b = queue.run(async () => { ranB = true; }, 0, waitingCaller.signal);
    expect(queue.stats).toMatchObject({ running: 1, waiting: 1 });
    waitingCaller.abort(new Error('client gone'));
    await expect(b).rejects.toThrow('client gone');
    expect(queue.stats).toMatchObject({ running: 1, waiting: 0, abandoned: 1 });
    caller.abort(new Error('client gone too'));
    await expect(a).rejects.toThrow('client gone too');
    expect(seenByTask!.aborted).toBe(true);
    // the task has not ended yet: its slot stays taken
    expect(queue.stats).toMatchObject({ running: 1, abandoned: 2 });
    gate.resolve();
    await queue.run(async () => {});
    expect(ranB).toBe(false);
    expect(queue.stats).toEqual({ running: 0, waiting: 0, concurrency: 1, maxWaiting: 2, completed: 2, timedOut: 0, rejected: 0, abandoned: 2 });
    await expect(queue.run(async () => {}, 0, AbortSignal.abort(new Error('already gone')))).rejects.toThrow('already gone');
  });

  it('aborts a running task at its deadline', async () => {
    const queue = new WorkQueue();
    const reasons: unknown[] = [];
    const task = queue.run((signal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => { reasons.push(signal.reason); resolve(); })), 10);
    await expect(task).rejects.toThrow(new QueueTimeoutError(10, 'running'));
    expect(reasons).toEqual([new QueueTimeoutError(10, 'running')]);
    await queue.run(async () => {});
    expect(queue.stats).toMatchObject({ running: 0, completed: 2, timedOut: 1 });
  });

  it('validates its options', () => {
    expect(() => new WorkQueue({ maxWaiting: -1 })).toThrow(new TypeError('Expected integer between 0 and 1048576 for maxWaiting but received -1 of type number'));
    expect(() => new WorkQueue({ size: 1 } as never)).toThrow(new TypeError('Unknown option "size" in queue options; expected one of "concurrency", "maxWaiting"'));
  });
});

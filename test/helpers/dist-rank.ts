/**
 * One rank of a distributed test, started by test/distributed/*.test.ts with torchrun's environment variables:
 *   node --import tsx test/helpers/dist-rank.ts <scenario> <out.json> [fingerprint]
 * Scenarios: reduce (each op on rank-dependent values), grads (this rank's half of a batch on the tiny model,
 * gradients reduced, the global norm that one clipped AdamW step sees), die (rank 1 is killed with SIGKILL after
 * joining; rank 0 then attempts a collective), join (only joins). Writes what it saw to out.json; an error is written
 * as { error }.
 */
import { writeFileSync } from 'node:fs';
import { Blip2Model } from '../../lib/model/blip2-model.js';
import { gatherTokenIds, ProcessGroup, REDUCE_OPS } from '../../lib/distributed/process-group.js';
import { TINY_MODEL } from './paths.js';
import { gradsBatch } from './dist-batch.js';
import { floatData } from './tensors.js';

const [scenario, out, fingerprint] = process.argv.slice(2) as [string, string, string | undefined];
const started = Date.now();
let group: ProcessGroup | undefined;
try {
  group = await ProcessGroup.fromEnv(process.env, { timeoutMs: Number(process.env.TEST_TIMEOUT_MS ?? 20_000), ...(fingerprint ? { fingerprint } : {}) });
  if (!group) throw new Error('WORLD_SIZE is not set');
  const result: Record<string, unknown> = { rank: group.rank, worldSize: group.worldSize };
  if (scenario === 'reduce') {
    for (const op of REDUCE_OPS) result[op] = Array.from(await group.allReduce([group.rank + 1, 10 * (group.rank + 1), -group.rank, 0.1], op));
    await group.barrier();
  } else if (scenario === 'grads') {
    const model = await Blip2Model.load(TINY_MODEL, { threads: 1 });
    await model.addLora({ r: 4, alpha: 8, dropout: 0, seed: 1 });
    const share = gradsBatch(group.rank, group.worldSize);
    await model.backwardCrossEntropy(share.inputs, { scale: share.tokens / share.globalTokens });
    await model.reduceGradients(group, { op: 'sum', bucketBytes: 4096 });
    result.grads = Object.fromEntries(Object.entries(await model.loraTensors('grads')).map(([k, t]) => [k, Array.from(floatData(t, k))]));
    result.gradNorm = (await model.optimizerStep({ lr: 1e-2, maxGradNorm: 0.5 })).gradNorm;
    model.dispose();
  } else if (scenario === 'gather') {
    // rank 0 holds rows 0-1, rank 1 rows 2-3 (one of them empty)
    const mine = group.rank === 0 ? [[5, 6], [7]] : [[], [1, 2, 3]];
    result.rows = await gatherTokenIds(group, mine, group.rank * 2, 4);
  } else if (scenario === 'die') {
    if (group.rank === Number(process.env.DIE_RANK ?? 1)) process.kill(process.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    await group.allReduce([1], 'sum');
  } else if (scenario !== 'join') {
    throw new Error(`unknown scenario ${scenario}`);
  }
  writeFileSync(out, JSON.stringify({ ...result, seconds: (Date.now() - started) / 1000 }));
  await group.destroy();
} catch (err) {
  writeFileSync(out, JSON.stringify({ error: (err as Error).message, seconds: (Date.now() - started) / 1000 }));
  process.exitCode = 1;
}

/**
 * Process groups for data-parallel work, on PyTorch's own engine (c10d): a TCPStore rendezvous on
 * MASTER_ADDR:MASTER_PORT (rank 0 serves it) and Gloo collectives on CPU (NCCL when this libtorch is a CUDA
 * build). Ranks are started by `blip2-progressive train --nproc N` or by any launcher with torchrun's environment
 * contract (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT).
 *
 * ```ts
 * const group = await ProcessGroup.fromEnv();          // or ProcessGroup.init({ rank, worldSize, ... })
 * await model.backwardCrossEntropy(myShare, { scale: myTokens / globalTokens });
 * await model.reduceGradients(group, { op: 'sum' });  // every rank now holds the global batch's gradient
 * await model.optimizerStep({ lr });
 * await group.destroy();
 * ```
 */
import { integerInRange, invalidParameterError, knownKeys, optional } from '../is.js';
import { native, withCallerStack } from '../native.js';
import { ArgumentError, NativeError } from '../errors.js';

/** How values are combined over the ranks. */
export type ReduceOp = 'sum' | 'mean' | 'min' | 'max';
export const REDUCE_OPS: readonly ReduceOp[] = ['sum', 'mean', 'min', 'max'];
export type DistributedBackend = 'gloo' | 'nccl';

export interface ProcessGroupOptions {
  rank: number;
  worldSize: number;
  /** The rendezvous host (rank 0's address). Default 127.0.0.1. */
  masterAddr?: string;
  /** The rendezvous port rank 0 listens on. Default 29500, as torchrun. */
  masterPort?: number;
  /** How long a rank waits for the others in the rendezvous and in each collective. Default 60 s. */
  timeoutMs?: number;
  /** Default 'gloo' (CPU). */
  backend?: DistributedBackend;
  /** Must be equal on every rank (e.g. a hash of the run's configuration); a rank that differs is named. */
  fingerprint?: string;
}

/** Opaque handle of the addon's process group. */
type GroupHandle = object;

export const DEFAULT_MASTER_PORT = 29500;
export const DEFAULT_DISTRIBUTED_TIMEOUT_MS = 60_000;

/**
 * torchrun's environment contract read from `env`: undefined when WORLD_SIZE is unset (a single process).
 * Errors name the variable.
 */
export function distributedEnv(env: NodeJS.ProcessEnv = process.env): (ProcessGroupOptions & { localRank: number }) | undefined {
  if (env.WORLD_SIZE === undefined) return undefined;
  const int = (name: string, fallback?: number) => {
    const text = env[name];
    if (text === undefined && fallback !== undefined) return fallback;
    const value = Number(text);
    if (text === undefined || !/^\d+$/.test(text) || !Number.isSafeInteger(value)) {
      throw new ArgumentError(`Expected a non-negative integer in the environment variable ${name} but received ${JSON.stringify(text)}`, { argument: name });
    }
    return value;
  };
  const worldSize = int('WORLD_SIZE');
  const rank = int('RANK');
  if (worldSize < 1 || rank >= worldSize) throw new ArgumentError(`RANK=${rank} must be below WORLD_SIZE=${worldSize}`, { argument: 'RANK' });
  return {
    rank, worldSize, localRank: int('LOCAL_RANK', rank), masterAddr: env.MASTER_ADDR ?? '127.0.0.1',
    masterPort: int('MASTER_PORT', DEFAULT_MASTER_PORT),
  };
}

/** The backends this build of the addon can use (empty when it was compiled without c10d). */
export function distributedBackends(): DistributedBackend[] {
  return [...native().distributedBackends] as DistributedBackend[];
}

export class ProcessGroup {
  private constructor(
    private readonly handle: GroupHandle,
    /** This process's rank, 0 … worldSize − 1. */
    readonly rank: number,
    readonly worldSize: number,
    readonly backend: DistributedBackend,
  ) {}

  /** Joins the group: resolves once every rank has joined (or rejects after `timeoutMs`, naming the missing rank). */
  static async init(options: ProcessGroupOptions): Promise<ProcessGroup> {
    const o = knownKeys('options', options, ['rank', 'worldSize', 'masterAddr', 'masterPort', 'timeoutMs', 'backend', 'fingerprint']);
    const worldSize = integerInRange('worldSize', o.worldSize, 1, 65536);
    const rank = integerInRange('rank', o.rank, 0, worldSize - 1);
    const masterAddr = (o.masterAddr ?? '127.0.0.1') as string;
    if (typeof masterAddr !== 'string' || masterAddr.length === 0) throw invalidParameterError('masterAddr', 'host name or address', masterAddr);
    const masterPort = optional(o.masterPort, DEFAULT_MASTER_PORT, (v) => integerInRange('masterPort', v, 1, 65535));
    const timeoutMs = optional(o.timeoutMs, DEFAULT_DISTRIBUTED_TIMEOUT_MS, (v) => integerInRange('timeoutMs', v, 1, 86_400_000));
    const backend = (o.backend ?? 'gloo') as DistributedBackend;
    if (!['gloo', 'nccl'].includes(backend)) throw invalidParameterError('backend', 'one of gloo, nccl', backend);
    const fingerprint = (o.fingerprint ?? '') as string;
    if (typeof fingerprint !== 'string') throw invalidParameterError('fingerprint', 'string', fingerprint);
    const addon = native();
    if (!addon.distributedBackends.includes(backend)) {
      const fix = backend === 'gloo' ? 'install libgloo-dev and rebuild with npm rebuild blip2-progressive' : 'NCCL needs a CUDA libtorch (LIBTORCH=… npm rebuild blip2-progressive)';
      throw new NativeError(`This build of the addon has no ${backend} backend (it has: ${addon.distributedBackends.join(', ') || 'none'}); ${fix}`, { operation: 'ProcessGroup.init' });
    }
    try {
      const handle = await withCallerStack(addon.initProcessGroup({ rank, worldSize, masterAddr, masterPort, timeoutMs, backend, fingerprint }), 'ProcessGroup.init');
      return new ProcessGroup(handle, rank, worldSize, backend);
    } catch (err) {
      const message = (err as Error).message;
      if (/address already in use|failed to (listen|bind)/i.test(message)) {
        throw new NativeError(`Rank ${rank} cannot serve the rendezvous on ${masterAddr}:${masterPort}: the port is in use; choose another with MASTER_PORT (or masterPort). (${message.split('\n')[0]})`,
          { operation: 'ProcessGroup.init', cause: err });
      }
      throw new NativeError(`Rank ${rank} of ${worldSize} could not join the process group at ${masterAddr}:${masterPort}: ${message.split('\n')[0]}`,
        { operation: 'ProcessGroup.init', cause: err });
    }
  }

  /** {@link init} from torchrun's environment variables (see {@link distributedEnv}); undefined without WORLD_SIZE. */
  static async fromEnv(env: NodeJS.ProcessEnv = process.env, options: Pick<ProcessGroupOptions, 'timeoutMs' | 'backend' | 'fingerprint'> = {}): Promise<ProcessGroup | undefined> {
    const found = distributedEnv(env);
    if (!found) return undefined;
    const { localRank: _localRank, ...group } = found;
    return ProcessGroup.init({ ...group, ...options });
  }

  /** Combines `values` over all ranks; every rank gets the result. */
  async allReduce(values: Float64Array | readonly number[], op: ReduceOp = 'sum'): Promise<Float64Array> {
    if (!REDUCE_OPS.includes(op)) throw invalidParameterError('op', `one of ${REDUCE_OPS.join(', ')}`, op);
    const data = values instanceof Float64Array ? values : Float64Array.from(values);
    return this.collective(native().groupAllReduce(this.handle, data, op));
  }

  /** Resolves when every rank has reached it. */
  async barrier(): Promise<void> {
    await this.collective(native().groupBarrier(this.handle));
  }

  /** Leaves the group and closes its connections; further calls fail. */
  async destroy(): Promise<void> {
    await withCallerStack(native().groupDestroy(this.handle), 'ProcessGroup.destroy');
  }

  /** The addon's handle, for {@link Blip2Model.reduceGradients}. */
  get nativeHandle(): GroupHandle {
    return this.handle;
  }

  /** Runs a collective of this group; a failure names this rank and the ranks the addon found gone. */
  async collective<T>(promise: Promise<T>): Promise<T> {
    try {
      return await withCallerStack(promise, 'ProcessGroup.collective');
    } catch (err) {
      throw new NativeError(`Rank ${this.rank} of ${this.worldSize}: a collective failed: ${(err as Error).message.split('\n')[0]}`,
        { operation: 'ProcessGroup.collective', cause: err });
    }
  }
}

/**
 * All ranks' rows of token ids, in order: each rank holds `mine`, rows `offset`… of `total` (contiguous shards that
 * together cover every row once), and every rank gets all `total` rows. One all-reduce of a zero-filled table (a
 * row per entry: its length, then its ids): ids and lengths are integers below 2^53, exact in a float64 sum.
 */
export async function gatherTokenIds(group: ProcessGroup, mine: number[][], offset: number, total: number): Promise<number[][]> {
  const width = 1 + (await group.allReduce([Math.max(0, ...mine.map((ids) => ids.length))], 'max'))[0]!;
  const table = new Float64Array(total * width);
  mine.forEach((ids, i) => {
    table[(offset + i) * width] = ids.length;
    table.set(ids, (offset + i) * width + 1);
  });
  const summed = await group.allReduce(table, 'sum');
  return Array.from({ length: total }, (_, i) => Array.from(summed.subarray(i * width + 1, i * width + 1 + summed[i * width]!)));
}

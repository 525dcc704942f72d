/**
 * The run folder's layout, for the run itself and for whoever reads a finished run (an `--adapter <runDir>`):
 *
 *   config.json            the resolved configuration
 *   run-state.json         finished stages (best adapter, scores) and the zero-shot scores
 *   stages/<k>-<name>/     best/, final/, checkpoint/ (while running), eval-<n>/
 */
import { join } from 'node:path';
import { readJsonFile } from './json.js';

/** The resolved configuration in a run folder. */
export const RUN_CONFIG_FILE = 'config.json';
/** The finished stages and zero-shot scores in a run folder. */
export const RUN_STATE_FILE = 'run-state.json';

/** The folder of stage `index` (0-based) of a run: stages/<k>-<name in lower case, other characters as "-">. */
export function stageDirectory(outDir: string, index: number, name: string): string {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'stage';
  return join(outDir, 'stages', `${index + 1}-${slug}`);
}

/** A stage of a run folder, as its files tell. */
export interface RunFolderStage {
  name: string;
  /** The stage's best weights: `stages/<k>-<name>/best` under the folder as given (so a moved run still works). */
  bestDir: string;
  finished: boolean;
}

/** What a run folder holds. */
export interface RunFolder {
  stages: RunFolderStage[];
  /** `'weights'` when the stages trained model weights (best/ then holds model.safetensors, not an adapter). */
  trainable: 'lora' | 'weights';
}

/**
 * Reads a run folder's config.json and run-state.json; undefined when `dir` is not a run folder (either file
 * missing or not what a run writes).
 */
export async function readRunFolder(dir: string): Promise<RunFolder | undefined> {
  let config: { stages?: unknown; trainable?: unknown };
  let state: { stages?: unknown };
  try {
    config = (await readJsonFile(join(dir, RUN_CONFIG_FILE), 'run config')) as typeof config;
    state = (await readJsonFile(join(dir, RUN_STATE_FILE), 'run state')) as typeof state;
  } catch {
    return undefined;
  }
  if (!Array.isArray(config?.stages) || !Array.isArray(state?.stages)) return undefined;
  const done = state.stages as unknown[];
  const stages = (config.stages as { name?: unknown }[]).map((stage, index) => {
    const name = String(stage?.name);
    return { name, bestDir: join(stageDirectory(dir, index, name), 'best'), finished: done[index] != null };
  });
  return { stages, trainable: config.trainable === undefined || config.trainable === 'lora' ? 'lora' : 'weights' };
}

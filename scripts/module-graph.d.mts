// Types of module-graph.mjs, for test/package/module-graph.test.ts.
export interface Layer {
  name: string;
  /** Top-level folders of lib/, or file names without extension for files directly in lib/. */
  units: readonly string[];
  about: string;
}
export interface ImportGraph {
  /** Each file (relative to lib/, with `/`) → the files of lib/ it imports. */
  edges: Record<string, string[]>;
  /** Relative imports that name no file. */
  unresolved?: { from: string; specifier: string }[];
}
export const LAYERS: readonly Layer[];
export function readImportGraph(libDir: string): Required<ImportGraph>;
export function unitOf(file: string): string;
export function checkModuleGraph(graph: ImportGraph, layers?: readonly Layer[]): string[];
export function layersMarkdown(layers?: readonly Layer[]): string;

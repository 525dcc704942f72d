/**
 * Starting a worker thread on a module of the package, from the compiled JavaScript or from the TypeScript sources
 * alike.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** The URL of tsx's ESM API (`tsImport`). */
function resolveTsxApi(): string {
  try {
    return import.meta.resolve('tsx/esm/api');
  } catch {
    // Runners without import.meta.resolve: resolve the package directory, then its ESM entry.
    const pkg = createRequire(import.meta.url).resolve('tsx/package.json');
    return pathToFileURL(pkg.replace(/package\.json$/, 'dist/esm/api/index.mjs')).href;
  }
}

/**
 * Starts a worker on the module `name` beside the module `callerUrl` (its `import.meta.url`): the compiled
 * `<name>.js`, or, when the caller runs from the TypeScript sources (tests, `tsx`), `<name>.ts` loaded through tsx's
 * `tsImport` (Node 20 workers do not inherit the main thread's `--import tsx` hooks).
 */
export function startModuleWorker(callerUrl: string, name: string): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, callerUrl));
  const tsxApi = resolveTsxApi();
  const script = new URL(`./${name}.ts`, callerUrl).href;
  const source = `import(${JSON.stringify(tsxApi)}).then((m) => m.tsImport(${JSON.stringify(script)}, ${JSON.stringify(callerUrl)}))`;
  return new Worker(source, { eval: true });
}

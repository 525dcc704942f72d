/**
 * Locates the data files shipped in lib/metrics/meteor/data/: next to the running module (TypeScript
 * sources, or a build that copies data/ beside its output), else under the package root (the nearest
 * ancestor directory with a package.json) at lib/metrics/meteor/data/.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Absolute path of a METEOR data file.
 * @param name File name inside data/.
 * @returns The path; throws an Error saying where it looked when the file is missing.
 */
export function locateDataFile(name: string): string {
  const moduleDir = dirname(fileURLToPath(import.meta.url));
  const beside = join(moduleDir, 'data', name);
  if (existsSync(beside)) return beside;
  for (let dir = moduleDir; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) {
      const file = join(dir, 'lib', 'metrics', 'meteor', 'data', name);
      if (existsSync(file)) return file;
    }
    if (dirname(dir) === dir) break;
  }
  throw new Error(`METEOR data file ${name} not found in ${join(moduleDir, 'data')} or under the package root ` +
    '(lib/metrics/meteor/data/); it ships with the package sources');
}

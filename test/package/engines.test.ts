// package.json's `engines.node` is true: every package a user's install brings in (dependencies, recursively;
// optional peers such as fastify are the user's choice) supports every Node version the range admits.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const root = join(dirname(new URL(import.meta.url).pathname), '..', '..');
interface Manifest { name: string; version: string; engines?: { node?: string }; dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> }
const readManifest = (dir: string) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;

/** Node's lookup: node_modules/<name> in `from` or the nearest folder above it that has one. */
function findPackage(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/** Every installed package of the production dependency tree, once each. */
function productionTree(): Map<string, Manifest> {
  const seen = new Map<string, Manifest>();
  const visit = (dir: string, manifest: Manifest) => {
    const deps = { ...manifest.dependencies, ...manifest.optionalDependencies };
    for (const name of Object.keys(deps)) {
      const found = findPackage(name, dir);
      if (!found || seen.has(found)) continue; // an optional dependency for another platform is not installed
      const child = readManifest(found);
      seen.set(found, child);
      visit(found, child);
    }
  };
  visit(root, readManifest(root));
  return seen;
}

/**
 * Whether `range` admits every version `claimed` admits. semver.subset compares one comparator set with one at a
 * time, so a union such as `^20 || >=21` would wrongly fail `>=20.19`; cutting `claimed` into one slice per major
 * version (and an open tail) avoids that.
 */
function admits(range: string, claimed: string): boolean {
  const lowest = semver.minVersion(claimed)!.major;
  const slices: string[] = [];
  for (const set of new semver.Range(claimed).set) {
    const comparators = set.map((c) => c.value).join(' ');
    for (let major = lowest; major < lowest + 20; major++) slices.push(`${comparators} >=${major}.0.0 <${major + 1}.0.0-0`);
    slices.push(`${comparators} >=${lowest + 20}.0.0`);
  }
  return slices.filter((slice) => semver.minVersion(slice) !== null).every((slice) => semver.subset(slice, range));
}

describe('engines.node', () => {
  it('is admitted by every production dependency', () => {
    const claimed = readManifest(root).engines!.node!;
    expect(semver.validRange(claimed)).not.toBeNull();
    expect(semver.satisfies(process.version, claimed), `this Node ${process.version} is inside ${claimed}`).toBe(true);
    const tree = productionTree();
    expect(tree.size).toBeGreaterThan(10);
    const narrower = [...tree.values()]
      .filter((m) => m.engines?.node && !admits(m.engines.node, claimed))
      .map((m) => `${m.name}@${m.version} wants node ${m.engines!.node}`);
    console.log(`engines: ${tree.size} production packages checked against node ${claimed}`);
    expect(narrower).toEqual([]);
  });
});

/** Executable Node scripts standing in for `java`, so the jar bridges can be tested without Java or the jars. */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes `<dir>/<name>`, an executable Node script with `body`, and returns its path. */
export function fakeJava(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/usr/bin/env node\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/**
 * A `java` that speaks pycocoevalcap's SPICE protocol (`-jar -Xmx8G <jar> <in> -cache <dir> -out <out> -subset
 * -silent`; anything else exits 2, `-version` exits 0): each image's `All.f` is the number of words of its candidate
 * over 10. With `log`, every run appends one JSON line `{ jar, images: [{ image_id, test }] }` to that file.
 */
export function fakeSpiceJava(dir: string, name: string, log?: string): string {
  return fakeJava(dir, name, `
const fs = require('fs');
const a = process.argv.slice(2);
if (a.length === 1 && a[0] === '-version') process.exit(0);
if (a.length !== 10 || a[0] !== '-jar' || a[1] !== '-Xmx8G' || a[4] !== '-cache' || a[6] !== '-out' || a[8] !== '-subset' || a[9] !== '-silent') {
  console.error('bad args: ' + a.join(' '));
  process.exit(2);
}
const input = JSON.parse(fs.readFileSync(a[3], 'utf8'));
${log === undefined ? '' : `fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ jar: a[2], images: input.map((x) => ({ image_id: x.image_id, test: x.test })) }) + '\\n');`}
fs.writeFileSync(a[7], JSON.stringify(input.map((x) => ({ image_id: x.image_id, scores: { All: { f: x.test.split(' ').length / 10, pr: 0, re: 0 } } }))));`);
}

// Write errors name the file: Node's own write errors do not ("ENOSPC: no space left on device, write").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendFileNamed, writeFileAtomic } from '../../lib/io/atomic.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'blip2-atomic-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('writeFileAtomic / appendFileNamed', () => {
  it('writes the whole file and leaves no temporary file', async () => {
    await writeFileAtomic(join(root, 'a.json'), '{"a":1}\n');
    expect(readFileSync(join(root, 'a.json'), 'utf8')).toBe('{"a":1}\n');
    expect(readdirSync(root)).toEqual(['a.json']);
  });

  it('ENOTDIR names the file being written and keeps the code', async () => {
    writeFileSync(join(root, 'plain'), 'x');
    const target = join(root, 'plain', 'results.json');
    const err = await writeFileAtomic(target, '{}').catch((e: NodeJS.ErrnoException) => e);
    expect((err as Error).message.startsWith(`Cannot write ${target}: ENOTDIR: not a directory, open '${join(root, 'plain')}/.results.json.tmp-`)).toBe(true);
    expect((err as NodeJS.ErrnoException).code).toBe('ENOTDIR');
  });

  it.skipIf(!existsSync('/dev/full'))('ENOSPC names the file being appended to', async () => {
    const plain = await appendFile('/dev/full', 'x').catch((e: Error) => e);
    expect((plain as Error).message).toBe('ENOSPC: no space left on device, write'); // why the wrapper exists
    const err = await appendFileNamed('/dev/full', 'x').catch((e: NodeJS.ErrnoException) => e);
    expect((err as Error).message).toBe('Cannot write /dev/full: ENOSPC: no space left on device, write');
    expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
  });
});

// `blip2-progressive ... | head -1`: the reader closing the pipe early ends the command quietly (exit 0, no
// EPIPE stack trace), the way Unix tools behave.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('CLI output into a closed pipe', () => {
  it('exits 0 without an EPIPE trace when the reader stops early', () => {
    const cli = resolve('lib/cli/main.ts');
    // head exits after 10 bytes, before the CLI has written the rest of its help
    const run = spawnSync('bash', ['-o', 'pipefail', '-c', `"${process.execPath}" --import tsx "${cli}" eval --help | head -c 10`], { encoding: 'utf8' });
    expect(run.stderr).not.toContain('EPIPE');
    expect(run.stdout).toBe('Usage: bli');
    expect(run.status).toBe(0);
  }, 30_000);
});

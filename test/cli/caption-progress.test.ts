// `caption` on a terminal: stdout and stderr share one screen, so each result line clears the progress bar first and
// draws it again after; read back as a terminal shows it, every result line stands alone and the bar ends the run.
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { register } from '../../lib/cli/caption.js';
import { TINY, TINY_MODEL } from '../helpers/paths.js';

/** What a terminal shows for this output: `\r` returns to the line's start, later characters overwrite earlier ones. */
function screen(output: string): string[] {
  const lines: string[][] = [[]];
  let column = 0;
  for (const char of output) {
    if (char === '\n') {
      lines.push([]);
      column = 0;
    } else if (char === '\r') {
      column = 0;
    } else {
      lines.at(-1)![column++] = char;
    }
  }
  return lines.map((l) => l.join('').trimEnd());
}

/** One terminal behind both streams, as when neither is redirected. */
function terminal() {
  let output = '';
  const write = (text: string) => {
    output += text;
    return true;
  };
  const stream = { isTTY: true, columns: 200, write } as unknown as NodeJS.WritableStream & { isTTY: boolean };
  return { stdout: stream, stderr: stream, output: () => output };
}

describe('caption progress on a terminal', () => {
  it('clears the bar before each result line and draws it again after: no line holds both', async () => {
    const images = ['img0_rgb_64x48.png', 'img1_rgb_40x72.jpg', 'img2_gray_50x50.png', 'img3_rgba_30x60.png'].map((f) => join(TINY, 'images', f));
    const tty = terminal();
    const program = new Command('blip2-progressive').exitOverride();
    register(program, tty.stdout, tty.stderr);
    // one image per batch: the bar is drawn between results
    await program.parseAsync(['caption', ...images, '--model', TINY_MODEL, '--max-new-tokens', '3', '--batch-size', '1', '--threads', '1'], { from: 'user' });
    const lines = screen(tty.output());
    expect(tty.output()).toContain('\rcaption [#####---------------] 1/4 '); // the bar was drawn before the second result
    expect(lines[0]).toMatch(/^loaded .*: 360,576 parameters, float32 on cpu, 1 threads, \d+\.\d s$/);
    expect(lines.slice(1, 5).map((l) => l.split('\t')[0])).toEqual(images);
    for (const line of lines.slice(1, 5)) expect(line).toMatch(/^[^\t]+\t-?\d+\.\d{4}\t[^\t]+$/);
    expect(lines.slice(5)).toEqual([expect.stringMatching(/^caption \[#{20}\] 4\/4 \d+\.\d img\/s in \d+s$/), '']);
  }, 60_000);
});

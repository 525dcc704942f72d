// The help a newcomer reads: the program's --help walks caption → eval → train → serve, and every example command in
// every --help names a command that exists and only flags that command has (the examples work as written).
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { createProgram } from '../../lib/cli/program.js';

/** The text `--help` prints for a command, the text added after the options included. */
function helpOf(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (t) => { text += t; } });
  command.outputHelp();
  return text;
}

/** Shell words of a line: quotes kept together and removed, a `#` word starts a comment. */
function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g)) {
    if (m[3]?.startsWith('#')) break;
    out.push(m[1] ?? m[2] ?? m[3]!);
  }
  return out;
}

/** The `blip2-progressive …` commands of a help's `$ ` example lines (continued with `\`, joined by &&, |, ;). */
function exampleCommands(help: string): string[][] {
  const lines = help.replace(/\\\n\s*/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l.startsWith('$ '));
  return lines.flatMap((l) => l.slice(2).split(/&&|\||;/)).map((part) => {
    const w = words(part.replace(/>\s*\S+/g, ''));
    while (w.length > 0 && /^[A-Z_]+=/.test(w[0]!)) w.shift(); // environment assignments
    return w;
  }).filter((w) => w[0] === 'blip2-progressive');
}

/** `command --flag` for every example flag its command does not have. */
function unknownFlags(program: Command, examples: string[][]): string[] {
  const unknown: string[] = [];
  for (const [, name, ...rest] of examples) {
    const command = program.commands.find((c) => c.name() === name);
    if (command === undefined) {
      unknown.push(`${name} (no such command)`);
      continue;
    }
    const flags = new Set([...command.options.map((o) => o.long), '--help']);
    for (const w of rest) if (w.startsWith('--') && !flags.has(w.split('=')[0])) unknown.push(`${name} ${w}`);
  }
  return unknown;
}

describe('--help', () => {
  const program = createProgram();

  it('the program\'s help walks the four steps in order: caption a folder, eval it, train, serve the run', () => {
    expect(exampleCommands(helpOf(program)).map((w) => w.join(' '))).toEqual([
      'blip2-progressive caption val --refs val.json --out preds.json',
      'blip2-progressive eval --refs val.json --preds preds.json',
      'blip2-progressive train --config run.json',
      'blip2-progressive serve --with-base --adapter mine=runs/vizwiz',
    ]);
  });

  it('every example of every command uses only commands and flags that exist', () => {
    const helps = [program, ...program.commands].map(helpOf);
    const examples = helps.flatMap(exampleCommands);
    expect(examples.length).toBeGreaterThan(30);
    expect(new Set(examples.map((w) => w[1]))).toEqual(new Set(['caption', 'eval', 'train', 'serve', 'score', 'bench', 'augment', 'download', 'doctor']));
    expect(unknownFlags(program, examples)).toEqual([]);
  });

  it('the checker reads continued lines, pipes and quotes, and names a flag a command lacks', () => {
    const help = "Examples:\n  $ blip2-progressive caption 'a b.png' --num-beam 3 && \\\n    blip2-progressive eval --preds p.json | head  # --nope\n  $ RANK=1 blip2-progressive trian --config r.json\n";
    const examples = exampleCommands(help);
    expect(examples).toEqual([['blip2-progressive', 'caption', 'a b.png', '--num-beam', '3'], ['blip2-progressive', 'eval', '--preds', 'p.json'], ['blip2-progressive', 'trian', '--config', 'r.json']]);
    expect(unknownFlags(program, examples)).toEqual(['caption --num-beam', 'trian (no such command)']);
  });
});

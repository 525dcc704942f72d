/** The `blip2-progressive` program with every command registered, and the workflow its `--help` opens with. */
import { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { commands } from './commands.js';
import { readJsonFileSync } from '../io/json.js';

const pkg = readJsonFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'package file') as { version: string };

/** Four commands, each feeding the next, with the data layout that `train --help`'s example config expects. */
const WORKFLOW = `
From a folder of images to a fine-tuned model on a demo page, each step feeding the next (every command's --help has
more examples). val.json and train.json: COCO or VizWiz-Captions annotations of the images in val/ and train/.
  $ blip2-progressive caption val --refs val.json --out preds.json   # a COCO results file, image ids from val.json
  $ blip2-progressive eval --refs val.json --preds preds.json        # BLEU-1..4, METEOR, ROUGE-L, CIDEr-D
  $ blip2-progressive train --config run.json                        # run.json: see train --help; prints its run folder
  $ blip2-progressive serve --with-base --adapter mine=runs/vizwiz   # the model and the run's best adapter side by side
Without --model, commands use the built-in default model, made once by \`blip2-progressive bench\` (about 12 minutes
on 2 cores); --model also takes a BLIP-2 folder or a Hugging Face repo id (Salesforce/blip2-flan-t5-xl).

Exit codes: 0 success, 1 runtime failure, 2 bad usage (unknown flag or invalid value), 130 stopped by SIGINT/SIGTERM.`;

/** A fresh program; commander's exits are turned into CommanderErrors for the caller to map to exit codes. */
export function createProgram(): Command {
  const program = new Command('blip2-progressive')
    .description('BLIP-2 captioning, progressive fine-tuning and caption metrics in Node.js')
    .version(pkg.version)
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', WORKFLOW);
  for (const register of commands) register(program);
  return program;
}

/**
 * `blip2-progressive score`: how well the model explains a caption for an image (teacher-forced loss and
 * per-token log-probabilities).
 *
 *   blip2-progressive score photo.jpg --model ./blip2-flan-t5-xl --caption "a dog on a beach" --json
 */
import type { Command } from 'commander';
import { streamLogger } from '../logger.js';
import { checkImageFiles } from './image-inputs.js';
import { addModelFlags, checkAdapterFlag, loadCaptioner, modelFromFlags, type ModelFlags } from './model-flags.js';
import { UsageError } from './usage.js';

interface ScoreFlags extends ModelFlags {
  adapter?: string;
  caption: string[];
  prompt?: string;
  json?: boolean;
}

/** Adds the `score` command to the program. */
export function register(program: Command, stdout: NodeJS.WritableStream = process.stdout): void {
  const command = program
    .command('score')
    .description('teacher-forced loss and token log-probabilities of captions for images')
    .argument('<images...>', 'image files (one --caption per image, in order), all checked before the model loads')
    .option('--caption <text>', 'caption to score (repeat once per image)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--adapter <dir>', 'a LoRA adapter directory (PEFT layout, e.g. a training run\'s stages/<k>-<name>/best), or a finished run\'s folder (its final stage\'s best)')
    .option('--prompt <text>', 'text before the caption (default: none, as Hugging Face)')
    .option('--json', 'print one JSON object per image: {"image", "loss", "tokenLogprobs"}')
    .addHelpText('after', `
Examples:
  $ blip2-progressive score dog.jpg --model ./blip2-flan-t5-xl --caption "a dog running on the beach"
  $ blip2-progressive score a.png b.png --model ./m --caption "two cats" --caption "a red car" --prompt "a photo of" --json`);
  addModelFlags(command).action(async (images: string[], flags: ScoreFlags) => {
    if (flags.caption.length !== images.length) {
      throw new UsageError(`--caption must be given once per image: ${images.length} image(s) but ${flags.caption.length} caption(s)`);
    }
    // before the model is found or loaded: a typo in a path or --adapter is known at once
    await checkImageFiles(images);
    await checkAdapterFlag(flags.adapter);
    const { dir, options } = await modelFromFlags(flags);
    const captioner = await loadCaptioner(dir, options, flags.adapter, streamLogger(process.stderr));
    try {
      const scores = await captioner.score(images, flags.caption, flags.prompt === undefined ? {} : { prompt: flags.prompt });
      scores.forEach((s, i) => {
        if (flags.json) {
          stdout.write(`${JSON.stringify({ image: images[i], loss: s.loss, tokenLogprobs: s.tokenLogprobs })}\n`);
        } else {
          stdout.write(`${images[i]}\tloss ${s.loss.toFixed(4)}\tperplexity ${Math.exp(s.loss).toFixed(2)}\t${s.tokenIds.length} tokens\n`);
        }
      });
    } finally {
      captioner.dispose();
    }
  });
}

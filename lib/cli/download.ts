/**
 * `blip2-progressive download <org/name>`: puts a model repo's loadable files into the Hugging Face cache (shared
 * with Python's huggingface_hub) and prints the snapshot directory, which every `--model` also accepts.
 *
 *   blip2-progressive download Salesforce/blip2-flan-t5-xl --revision main
 */
import type { Command } from 'commander';
import { isRepoId } from '../hub/repo.js';
import { resolveRepo, type DownloadProgress } from '../hub/resolve.js';
import { streamLogger } from '../logger.js';
import { ProgressBar, type ProgressStream } from './progress.js';
import { UsageError } from './usage.js';

interface DownloadFlags {
  revision?: string;
  cacheDir?: string;
  progress?: boolean;
}

/**
 * A progress bar in megabytes for downloads (`download org/name [####----] 120/4000 35.2 MB/s ETA 1m50s`), drawn
 * on a terminal or when `force`; undefined otherwise. It redraws when the megabyte count changes.
 */
export function downloadProgressBar(stream: ProgressStream, force: boolean): ((progress: DownloadProgress) => void) | undefined {
  if (!force && stream.isTTY !== true) return undefined;
  let bar: ProgressBar | undefined;
  let shown = -1;
  return (p) => {
    bar ??= new ProgressBar(stream, Math.max(1, Math.ceil(p.totalBytes / 1e6)), `download ${p.repoId}`, 'MB');
    const done = p.bytes >= p.totalBytes ? bar.total : Math.min(bar.total - 1, Math.floor(p.bytes / 1e6));
    if (done === shown) return;
    shown = done;
    bar.update(done);
  };
}

/** Adds the `download` command to the program. */
export function register(program: Command, stdout: NodeJS.WritableStream = process.stdout, stderr: ProgressStream & NodeJS.WritableStream = process.stderr): void {
  program
    .command('download')
    .description('download a BLIP-2 model by Hugging Face repo id into the Hugging Face cache (shared with Python) and print its snapshot directory')
    .argument('<repo>', 'Hugging Face repo id, org/name')
    .option('--revision <rev>', 'branch, tag or commit hash (default main)')
    .option('--cache-dir <dir>', 'the Hugging Face hub cache (default $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub)')
    .option('--progress', 'draw the progress bar even when stderr is not a terminal')
    .addHelpText('after', `
Only the files the loader reads are fetched: config.json, preprocessor_config.json, tokenizer.json (and
tokenizer_config.json, special_tokens_map.json, added_tokens.json, generation_config.json when present), and
model.safetensors or model.safetensors.index.json with its shards. An interrupted download resumes. HF_TOKEN (or
the token file of \`hf auth login\`) is sent for private and gated repos; HF_ENDPOINT selects a mirror. With
HF_HUB_OFFLINE=1 nothing is downloaded: the command checks the cache and prints the snapshot directory.

Examples:
  $ blip2-progressive download Salesforce/blip2-flan-t5-xl
  $ blip2-progressive caption dog.jpg --model Salesforce/blip2-flan-t5-xl
  $ HF_HUB_OFFLINE=1 blip2-progressive caption dog.jpg --model Salesforce/blip2-flan-t5-xl`)
    .action(async (repo: string, flags: DownloadFlags) => {
      if (!isRepoId(repo)) throw new UsageError(`download expects a Hugging Face repo id (org/name) but received ${JSON.stringify(repo)}`);
      const logger = streamLogger(stderr);
      const onProgress = downloadProgressBar(stderr, flags.progress === true);
      const resolved = await resolveRepo(repo, {
        ...(flags.revision === undefined ? {} : { revision: flags.revision }),
        ...(flags.cacheDir === undefined ? {} : { cacheDir: flags.cacheDir }),
        ...(onProgress ? { onProgress } : {}),
        logger,
      });
      logger.info(
        resolved.downloaded.length > 0
          ? `${repo}@${resolved.revision}: ${resolved.downloaded.length} files downloaded, commit ${resolved.commit}`
          : `${repo}@${resolved.revision}: already in the cache, commit ${resolved.commit}`,
      );
      stdout.write(`${resolved.dir}\n`);
    });
}

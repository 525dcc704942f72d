// Types of Blip2Captioner.caption: what the call returns and what onResult receives follow numReturnSequences and
// onError, so callers never narrow by hand. Checked by caption-types.test.ts, which compiles this file with tsc.
import { expectTypeOf } from 'vitest';
import type { Blip2Captioner } from '../../lib/captioner.js';
import type { Caption, CaptionFailure, CaptionOptions, CaptionResult } from '../../lib/generation/caption.js';

declare const captioner: Blip2Captioner;
declare const images: string[];
declare const runtimeCount: number;
declare const options: CaptionOptions;

export async function typed(): Promise<void> {
  expectTypeOf(await captioner.caption(images)).toEqualTypeOf<Caption[]>();
  expectTypeOf(await captioner.caption(images, { maxNewTokens: 5, numReturnSequences: 1 })).toEqualTypeOf<Caption[]>();

  const several = await captioner.caption(images, {
    numBeams: 3, numReturnSequences: 3, onResult: (index, result) => expectTypeOf(result).toEqualTypeOf<Caption[]>(),
  });
  expectTypeOf(several).toEqualTypeOf<Caption[][]>();
  expectTypeOf(several[0]![0]!.text).toBeString();

  const skipped = await captioner.caption(images, {
    doSample: true, numReturnSequences: 2, onError: 'skip', onResult: (index, result) => expectTypeOf(result).toEqualTypeOf<Caption[] | CaptionFailure>(),
  });
  expectTypeOf(skipped).toEqualTypeOf<(Caption[] | CaptionFailure)[]>();
  expectTypeOf(await captioner.caption(images, { onError: 'skip' })).toEqualTypeOf<(Caption | CaptionFailure)[]>();
  expectTypeOf(await captioner.caption(images, { onError: 'throw', numReturnSequences: 4, numBeams: 4 })).toEqualTypeOf<Caption[][]>();

  // a count known only at run time, or options typed as CaptionOptions: the honest unions
  expectTypeOf(await captioner.caption(images, { numReturnSequences: runtimeCount, numBeams: 8 })).toEqualTypeOf<(Caption | Caption[])[]>();
  expectTypeOf(await captioner.caption(images, options)).toEqualTypeOf<CaptionResult[]>();
}

/** What a server or a test double asks of a captioner: Blip2Captioner still satisfies it. */
export const asInterface: { caption(images: readonly string[], options?: CaptionOptions): Promise<(Caption | Caption[])[]> } = captioner;

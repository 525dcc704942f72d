// Prompt rows and their padding, shared by captionImages and Blip2Captioner.promptIds.
import { describe, expect, it } from 'vitest';
import { padPrompts, promptRows } from '../../lib/generation/caption.js';
import type { T5Tokenizer } from '../../lib/text/tokenizer.js';

/** A tokenizer whose ids are the words' lengths: "a big dog" → [1, 3, 3]. */
const tokenizer = { encode: (text: string) => text.split(' ').map((w) => w.length) } as unknown as T5Tokenizer;

describe('prompt rows', () => {
  it('right-pads every row to the longest with the pad id and mask 0', () => {
    expect(padPrompts([[5, 6, 7], [8], undefined], 9)).toEqual({
      inputIds: [[5, 6, 7], [8, 9, 9], [9, 9, 9]],
      attentionMask: [[1, 1, 1], [1, 0, 0], [0, 0, 0]],
    });
  });

  it('gives zero-length rows without a prompt', () => {
    expect(padPrompts(promptRows(tokenizer, undefined, 2, 512), 0)).toEqual({ inputIds: [[], []], attentionMask: [[], []] });
  });

  it('encodes one prompt for every image, or one per image', () => {
    expect(promptRows(tokenizer, 'a big dog', 2, 512)).toEqual([[1, 3, 3], [1, 3, 3]]);
    expect(padPrompts(promptRows(tokenizer, ['a photo', 'the'], 2, 512), 0)).toEqual({
      inputIds: [[1, 5], [3, 0]],
      attentionMask: [[1, 1], [1, 0]],
    });
  });

  it('refuses a prompt longer than the limit, naming it', () => {
    expect(() => promptRows(tokenizer, ['ok', 'one two three'], 2, 2)).toThrow(
      'Expected at most 2 tokens for prompt[1] but received 3 tokens (maxPromptTokens sets the limit)');
  });
});

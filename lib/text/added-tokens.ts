/**
 * Added tokens (`<pad>`, `</s>`, `<extra_id_N>`, ...) are matched whole in the raw text before the model sees it, as
 * the slow Hugging Face tokenizer's `tokens_trie.split` and the AddedToken lstrip / rstrip / single_word handling of
 * `PreTrainedTokenizer.tokenize` do.
 */
import { pythonLstrip, pythonRstrip } from './pystring.js';
import type { AddedToken } from './tokenizer-config.js';

/** One piece of the raw text after cutting at added tokens: `added` is set for an added token's own piece. */
export interface TextChunk {
  text: string;
  added: AddedToken | undefined;
}

/** Cuts text at a fixed set of added tokens. */
export class AddedTokenMatcher {
  private readonly byContent = new Map<string, AddedToken>();
  private readonly byFirstChar = new Map<string, AddedToken[]>();

  constructor(tokens: readonly AddedToken[]) {
    for (const token of tokens) {
      this.byContent.set(token.content, token);
      const first = token.content[0]!;
      const list = this.byFirstChar.get(first) ?? [];
      list.push(token);
      list.sort((a, b) => b.content.length - a.content.length);
      this.byFirstChar.set(first, list);
    }
  }

  /** The added token whose content is exactly `content`. */
  get(content: string): AddedToken | undefined {
    return this.byContent.get(content);
  }

  /**
   * `tokens_trie.split` (leftmost, longest match) followed by the lstrip / rstrip / single_word handling of
   * `PreTrainedTokenizer.tokenize`; empty chunks are dropped.
   */
  split(text: string): TextChunk[] {
    const parts: TextChunk[] = [];
    let last = 0;
    for (let i = 0; i < text.length; ) {
      const candidates = this.byFirstChar.get(text[i]!);
      const match = candidates?.find((t) => text.startsWith(t.content, i));
      if (match === undefined) {
        i++;
        continue;
      }
      if (i > last) parts.push({ text: text.slice(last, i), added: undefined });
      parts.push({ text: match.content, added: match });
      i += match.content.length;
      last = i;
    }
    if (last < text.length) parts.push({ text: text.slice(last), added: undefined });
    parts.forEach((part, i) => {
      const token = part.added;
      if (token === undefined) return;
      const left = parts[i - 1];
      const right = parts[i + 1];
      if (token.rstrip && right !== undefined && right.text.length > 0) right.text = pythonLstrip(right.text);
      if (token.lstrip && left !== undefined && left.text.length > 0) left.text = pythonRstrip(left.text);
      if (token.singleWord && left !== undefined && left.text.length > 0 && !left.text.endsWith(' ')) {
        left.text += part.text;
        part.text = '';
      } else if (token.singleWord && right !== undefined && right.text.length > 0 && !right.text.startsWith(' ')) {
        part.text += right.text;
        right.text = '';
      }
    });
    return parts
      .filter((part) => part.text.length > 0)
      .map((part) => ({ text: part.text, added: this.byContent.get(part.text) }));
  }
}

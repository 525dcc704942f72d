/**
 * Python `str` behaviours the slow Hugging Face tokenizer relies on, reproduced exactly:
 * `str.strip()` / `lstrip()` / `rstrip()` with no argument (Python's whitespace set differs from
 * JavaScript's `trim`: it includes U+001C..U+001F and U+0085, and excludes U+FEFF) and
 * `PreTrainedTokenizerBase.clean_up_tokenization`.
 */

/** Whether the UTF-16 code unit is whitespace for Python's `str.isspace` (all such characters are in the BMP). */
export function isPythonWhitespace(code: number): boolean {
  return (
    (code >= 0x09 && code <= 0x0d) ||
    (code >= 0x1c && code <= 0x20) ||
    code === 0x85 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  );
}

/** Python `text.lstrip()`. */
export function pythonLstrip(text: string): string {
  let start = 0;
  while (start < text.length && isPythonWhitespace(text.charCodeAt(start))) start++;
  return text.slice(start);
}

/** Python `text.rstrip()`. */
export function pythonRstrip(text: string): string {
  let end = text.length;
  while (end > 0 && isPythonWhitespace(text.charCodeAt(end - 1))) end--;
  return text.slice(0, end);
}

/** Python `text.strip()`. */
export function pythonStrip(text: string): string {
  return pythonLstrip(pythonRstrip(text));
}

/** The replacements of `clean_up_tokenization`, applied in this order (transformers 4.44). */
const CLEAN_UP_RULES: ReadonlyArray<readonly [string, string]> = [
  [' .', '.'],
  [' ?', '?'],
  [' !', '!'],
  [' ,', ','],
  [" ' ", "'"],
  [" n't", "n't"],
  [" 'm", "'m"],
  [" 's", "'s"],
  [" 've", "'ve"],
  [" 're", "'re"],
];

/** `clean_up_tokenization`: removes the space before `. ? ! ,` and English contractions. */
export function cleanUpTokenization(text: string): string {
  let out = text;
  for (const [from, to] of CLEAN_UP_RULES) out = out.split(from).join(to);
  return out;
}

// The demo page's generation controls come from the generation-option registry: one control per option exposed on
// the page, bounded by the option's range (the top lowered to the server's limit where it has one) and starting at
// its default; max new tokens is the seed demo's slider, 8 to 40 at 40, with its value shown beside it.
import { describe, expect, it } from 'vitest';
import { generationFlag, generationOptionsOn } from '../../lib/generation/options.js';
import { renderPage } from '../../lib/serve/page.js';
import { DEFAULT_LIMITS } from '../../lib/serve/limits.js';

/** The attributes of the `<input>` with this id, or undefined when the page has none. */
function inputAttributes(html: string, id: string): Record<string, string> | undefined {
  const tag = [...html.matchAll(/<input\b[^>]*>/g)].map((m) => m[0]).find((t) => t.includes(` id="${id}"`));
  if (tag === undefined) return undefined;
  return Object.fromEntries([...tag.matchAll(/([\w-]+)(?:="([^"]*)")?/g)].slice(1).map((m) => [m[1]!, m[2] ?? '']));
}

const limits = { ...DEFAULT_LIMITS, options: { maxNewTokens: 16, maxBeams: 4, maxPromptLength: 100 } };

describe('demo page controls', () => {
  for (const [what, pageLimits] of [['default limits', DEFAULT_LIMITS], ['lower limits', limits]] as const) {
    it(`every page option has a control with the registry's bounds and default (${what})`, () => {
      const html = renderPage({ models: ['m'], limits: pageLimits });
      for (const spec of generationOptionsOn('page')) {
        const input = inputAttributes(html, generationFlag(spec.name).slice(2));
        expect(input, spec.name).toBeDefined();
        expect(input!.name).toBe(spec.name);
        if (spec.kind === 'boolean') {
          expect([input!.type, 'checked' in input!]).toEqual(['checkbox', spec.default]);
          continue;
        }
        const [low, high] = spec.pageSlider?.range ?? spec.range!;
        const top = spec.serverMax ? Math.min(high, pageLimits.options[spec.serverMax]) : high;
        const start = spec.pageSlider?.default ?? spec.default;
        expect({ type: input!.type, min: Number(input!.min), max: Number(input!.max), value: input!.value }, spec.name).toEqual({
          type: spec.pageSlider ? 'range' : 'number', min: Math.min(low, top), max: top, value: start === undefined ? undefined : String(Math.min(Number(start), top)),
        });
      }
    });
  }

  it('max new tokens is a slider from 8 to 40 at 40 with a readout, lowered to a server limit under 40', () => {
    const html = renderPage({ models: ['m'], limits: DEFAULT_LIMITS });
    expect(inputAttributes(html, 'max-new-tokens')).toMatchObject({ type: 'range', min: '8', max: '40', value: '40' });
    expect(html).toContain('<output id="max-new-tokens-value" for="max-new-tokens">40</output>');
    const low = renderPage({ models: ['m'], limits });
    expect(inputAttributes(low, 'max-new-tokens')).toMatchObject({ type: 'range', min: '8', max: '16', value: '16' });
    expect(low).toContain('<output id="max-new-tokens-value" for="max-new-tokens">16</output>');
    // the other bounds, by hand: beams 1..maxBeams, top-p 0..1 at Hugging Face's 1, the seed empty
    expect(inputAttributes(low, 'num-beams')).toMatchObject({ min: '1', max: '4', value: '1' });
    expect(inputAttributes(low, 'top-p')).toMatchObject({ min: '0', max: '1', value: '1' });
    expect(inputAttributes(low, 'seed')).not.toHaveProperty('value');
  });

  it('the script is told which fields to send, and when', () => {
    const html = renderPage({ models: ['m'], limits: DEFAULT_LIMITS });
    const config = JSON.parse(/<script type="application\/json" id="config">(.*?)<\/script>/s.exec(html)![1]!) as { sent: string[][] };
    expect(config.sent).toEqual([
      ['max-new-tokens', 'maxNewTokens', 'always'], ['min-new-tokens', 'minNewTokens', 'changed'], ['num-beams', 'numBeams', 'always'],
      ['num-return-sequences', 'numReturnSequences', 'changed'], ['length-penalty', 'lengthPenalty', 'changed'],
      ['no-repeat-ngram-size', 'noRepeatNgramSize', 'changed'], ['temperature', 'temperature', 'sampling'], ['top-p', 'topP', 'sampling'],
      ['seed', 'seed', 'sampling'],
    ]);
  });
});

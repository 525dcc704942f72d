// The generation-option table says where each option is exposed: the library's options, caption's flags, a run
// config's eval (and eval --data's flags), the server's API options and OpenAPI schema, and the demo page's form
// expose exactly the options it lists for them, and none other.
import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { GENERATION_KEYS, HF_DEFAULTS, resolveGenerationConfig } from '../../lib/generation/config.js';
import { GENERATION_OPTIONS, generationFlag, generationOptionsOn, type GenerationSurface } from '../../lib/generation/options.js';
import { register as registerCaption } from '../../lib/cli/caption.js';
import { register as registerEval } from '../../lib/cli/eval.js';
import { EVAL_KEYS } from '../../lib/train/run-config.js';
import { API_OPTION_KEYS, DEFAULT_OPTION_LIMITS, validateApiOptions } from '../../lib/serve/options.js';
import { openApiDocument } from '../../lib/serve/openapi.js';
import { renderPage } from '../../lib/serve/page.js';
import { DEFAULT_LIMITS } from '../../lib/serve/limits.js';

const NAMES = new Set<string>(GENERATION_OPTIONS.map((o) => o.name));
const on = (surface: GenerationSurface) => generationOptionsOn(surface).map((o) => o.name);
/** The generation options among some names, in their order. */
const generationNames = (names: Iterable<string>) => [...names].filter((n) => NAMES.has(n));

function commandOptions(register: (program: Command) => void, name: string): { attribute: string; long: string }[] {
  const program = new Command();
  register(program);
  const command = program.commands.find((c) => c.name() === name)!;
  return command.options.map((o) => ({ attribute: o.attributeName(), long: o.long! }));
}

const serverSchema = () => {
  const doc = openApiDocument(['m'], DEFAULT_LIMITS) as { components: { schemas: { CaptionOptions: { properties: Record<string, unknown> } } } };
  return doc.components.schemas.CaptionOptions.properties;
};

describe('generation option registry', () => {
  it('holds the 23 library options with Hugging Face\'s defaults', () => {
    expect(GENERATION_OPTIONS.length).toBe(23);
    expect(on('api')).toEqual([...GENERATION_KEYS]);
    expect(Object.keys(HF_DEFAULTS)).toEqual([...GENERATION_KEYS]);
    expect(Object.keys(resolveGenerationConfig({})).sort()).toEqual([...GENERATION_KEYS].sort());
    expect({ maxLength: HF_DEFAULTS.maxLength, numBeams: HF_DEFAULTS.numBeams, topK: HF_DEFAULTS.topK, topP: HF_DEFAULTS.topP, eosTokenId: HF_DEFAULTS.eosTokenId })
      .toEqual({ maxLength: 20, numBeams: 1, topK: 50, topP: 1, eosTokenId: [1] });
  });

  it('caption has a flag for exactly the cli options, named after them', () => {
    const options = commandOptions((p) => registerCaption(p), 'caption').filter((o) => NAMES.has(o.attribute));
    expect(options.map((o) => o.attribute)).toEqual(on('cli'));
    expect(options.map((o) => o.long)).toEqual(on('cli').map(generationFlag));
    expect(on('cli')).toEqual(['maxNewTokens', 'minNewTokens', 'numBeams', 'numReturnSequences', 'lengthPenalty', 'earlyStopping',
      'noRepeatNgramSize', 'repetitionPenalty', 'doSample', 'temperature', 'topK', 'topP', 'seed']);
  });

  it('a run config\'s eval and eval --data take exactly the runConfig options', () => {
    expect(generationNames(Object.keys(EVAL_KEYS))).toEqual(on('runConfig'));
    expect(generationNames(commandOptions((p) => registerEval(p), 'eval').map((o) => o.attribute)).sort()).toEqual(on('runConfig').sort());
    expect(on('runConfig')).toEqual(['maxNewTokens', 'numBeams']);
  });

  it('the server accepts and documents exactly the server options, after prompt', () => {
    expect(API_OPTION_KEYS).toEqual(['prompt', ...on('server')]);
    expect(Object.keys(serverSchema())).toEqual(['prompt', ...on('server')]);
    expect(on('server')).toEqual(['maxNewTokens', 'minNewTokens', 'numBeams', 'numReturnSequences', 'lengthPenalty', 'noRepeatNgramSize',
      'doSample', 'temperature', 'topP', 'seed']);
  });

  it('the server bounds its options by its limits, the others by the library\'s ranges', () => {
    const schema = serverSchema() as Record<string, { minimum?: number; maximum?: number }>;
    expect(schema.numBeams).toMatchObject({ minimum: 1, maximum: DEFAULT_OPTION_LIMITS.maxBeams });
    expect(schema.noRepeatNgramSize).toMatchObject({ minimum: 0, maximum: 64 });
    expect(schema.temperature).toEqual({ type: 'number', minimum: 0.01, maximum: 10 });
    expect(() => validateApiOptions({ numReturnSequences: 9, numBeams: 8 })).toThrow('Expected integer between 1 and 8 for numReturnSequences but received 9 of type number');
    expect(() => validateApiOptions({ topP: 1.5 })).toThrow('Expected number between 0 and 1 for topP but received 1.5 of type number');
  });

  it('the demo page has a form field for exactly the page options', () => {
    const html = renderPage({ models: ['m'], limits: DEFAULT_LIMITS });
    const fields = [...html.matchAll(/<input [^>]*name="(\w+)"/g)].map((m) => m[1]!);
    expect(fields.filter((f) => f !== 'image' && f !== 'prompt')).toEqual(on('page'));
  });
});

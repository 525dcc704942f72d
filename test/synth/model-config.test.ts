// The tiny model "B": parses as a BLIP-2 config, has the hand-counted 2,517,504 parameters, and its
// preprocessor and generation configs parse with the project's readers.
import { describe, expect, it } from 'vitest';
import { parseBlip2Config } from '../../lib/model/config.js';
import { generationOptionsFromJson } from '../../lib/generation/config.js';
import { parseProcessorConfig } from '../../lib/image/processor.js';
import {
  SYNTH_SUPPRESSED_TOKENS, synthGenerationConfig, synthModelConfig, synthPreprocessorConfig,
} from '../../lib/synth/model-config.js';
import { T5Tokenizer } from '../../lib/text/tokenizer.js';
import { TINY_MODEL } from '../helpers/paths.js';

// Hand count (HF module tree, as in the tiny fixture checkpoint's keys):
// vision: embeddings 96 (class) + 96·3·8·8 + 96 (patch conv) + 65·96 (positions) = 24,864;
//   per layer qkv 3·96·96 + 3·96, projection 96·96 + 96, fc1 384·96 + 384, fc2 96·384 + 96, 2 layer norms 4·96
//   = 111,840; ×3;
//   post layer norm 192 → 360,576
// Q-Former: query tokens 8·96, layer norm 192; per layer self- and cross-attention 2·(4·(96·96 + 96) + 192),
//   intermediate_query 384·96 + 384, output_query 96·384 + 96 + 192 = 149,280; ×2 → 299,520
// language projection 128·96 + 128 = 12,416
// T5: shared and lm_head 2·4128·128; encoder block 4·128² + 3·128·256 + 2·128 = 164,096, decoder block adds
//   cross-attention 4·128² + 128 = 229,760; relative bias 32·4 per stack; final norms 128 per stack
//   → 1,056,768 + 2·164,096 + 256 + 2·229,760 + 256 = 1,844,992
const HAND_COUNT = 360_576 + 299_520 + 12_416 + 1_844_992;

describe('synthModelConfig', () => {
  it('resolves to model B', () => {
    const c = parseBlip2Config(synthModelConfig());
    expect(c.num_query_tokens).toBe(8);
    expect(c.vision_config).toMatchObject({ image_size: 64, patch_size: 8, hidden_size: 96, num_hidden_layers: 3, num_attention_heads: 4, intermediate_size: 384 });
    expect(c.qformer_config).toMatchObject({ hidden_size: 96, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 384, cross_attention_frequency: 1, encoder_hidden_size: 96 });
    expect(c.text_config).toMatchObject({
      d_model: 128, d_kv: 32, num_heads: 4, d_ff: 256, num_layers: 2, num_decoder_layers: 2, vocab_size: 4128,
      is_gated_act: true, dense_act_fn: 'gelu_new', tie_word_embeddings: false,
    });
  });

  it('has the hand-counted 2,517,504 parameters (expectedTensors)', async () => {
    expect(HAND_COUNT).toBe(2_517_504);
    let Blip2Model;
    try {
      ({ Blip2Model } = await import('../../lib/model/blip2-model.js'));
      Blip2Model.expectedTensors(parseBlip2Config(synthModelConfig()));
    } catch (error) {
      console.log(`native addon unavailable, parameter count checked by hand only: ${(error as Error).message.split('\n')[0]}`);
      return;
    }
    const tensors = Blip2Model.expectedTensors(parseBlip2Config(synthModelConfig()));
    const total = tensors.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
    console.log(`model B: ${tensors.length} tensors, ${total.toLocaleString('en-US')} parameters`);
    expect(total).toBe(HAND_COUNT);
    expect(tensors.find((t) => t.name === 'vision_model.embeddings.position_embedding')!.shape).toEqual([1, 65, 96]);
    expect(tensors.find((t) => t.name === 'query_tokens')!.shape).toEqual([1, 8, 96]);
  });

  it('parses its preprocessor config: 64×64 bicubic with CLIP statistics', () => {
    const s = parseProcessorConfig(synthPreprocessorConfig());
    expect(s.size).toEqual({ height: 64, width: 64 });
    expect(s.resample).toBe('bicubic');
    expect(s.imageMean).toEqual([0.48145466, 0.4578275, 0.40821073]);
    expect(s.imageStd).toEqual([0.26862954, 0.26130258, 0.27577711]);
  });

  it('parses its generation config and suppresses the 28 padding ids the tokenizer cannot decode', async () => {
    const tokenizerSize = (await T5Tokenizer.fromPretrained(TINY_MODEL)).vocabSize;
    expect(tokenizerSize).toBe(4100);
    const options = generationOptionsFromJson(synthGenerationConfig());
    expect(options.maxNewTokens).toBe(24);
    expect(options.suppressTokens).toEqual(Array.from({ length: 4128 - tokenizerSize }, (_, k) => tokenizerSize + k));
    expect(SYNTH_SUPPRESSED_TOKENS.length).toBe(28);
  });
});

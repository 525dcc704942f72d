// T5 encoder-decoder (Flan-T5): RMS layer norm in fp32, unscaled attention with a relative position bias
// computed in block 0 of each stack and reused by later blocks, gated-GELU feed-forward, untied lm_head.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "config.h"
#include "language_model.h"
#include "layers.h"

namespace blip2 {

// T5LayerNorm: weight * x / sqrt(mean(x^2) + eps), no mean subtraction, no bias, variance in fp32.
struct T5LayerNorm {
  torch::Tensor weight;
  double eps;
  T5LayerNorm(const Scope& scope, int64_t dim, double eps);
  torch::Tensor forward(const torch::Tensor& x) const;
};

struct T5Attention {
  Linear q, k, v, o;                      // no biases; inner_dim = num_heads * d_kv
  torch::Tensor relative_attention_bias;  // (num_buckets, num_heads); only in block 0 of each stack
  bool has_relative_attention_bias, is_decoder;
  int64_t num_heads, d_kv, num_buckets, max_distance;
  T5Attention(const Scope& scope, const T5Config& c, bool has_relative_attention_bias, bool is_decoder);
  // (1, h, q_len, k_len) bias for queries at positions q_offset.. and keys at 0..k_len-1.
  torch::Tensor compute_bias(int64_t q_len, int64_t k_len, int64_t q_offset = 0) const;
  // hidden (B, Tq, D); kv_input (B, Tk, D); bias broadcastable to (B, h, Tq, Tk), masks included.
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& kv_input, const torch::Tensor& bias) const;
  // (B, T, inner) -> (B, h, T, d_kv)
  torch::Tensor split_heads(const torch::Tensor& x) const;
  // softmax(q k^T + bias) v, merged and projected by o: qs (B, h, Tq, d), ks/vs (B, h, Tk, d).
  // attend() with the keys/values shared by `group` consecutive query rows: qs (R, h, 1, d), ks/vs (R / group, h,
  // T, d), bias (R / group, 1, 1, T); the group's queries form one matrix product against their shared keys.
  torch::Tensor attend_shared(const torch::Tensor& qs, const torch::Tensor& ks, const torch::Tensor& vs,
                              const torch::Tensor& bias, int64_t group) const;
  torch::Tensor attend(const torch::Tensor& qs, const torch::Tensor& ks, const torch::Tensor& vs,
                       const torch::Tensor& bias) const;
};

// Key/value cache of one decoder block: self-attention grows by one position per step; cross-attention
// keys/values are computed once from the encoder output.
struct DecoderLayerCache {
  torch::Tensor self_k, self_v;    // (B, h, t, d_kv)
  torch::Tensor cross_k, cross_v;  // (B, h, T_enc, d_kv)
};

struct DecoderCache : DecodingState {
  std::vector<DecoderLayerCache> layers;
  // Cross-attention keys/values and the encoder mask are kept once per encoder row; `group` consecutive decoder rows
  // (the beams or samples of one image) share each, so they are neither computed nor reordered per row.
  torch::Tensor cross_bias;  // (rows / group, 1, 1, T_enc) additive encoder mask
  int64_t group = 1;
  int64_t length = 0;  // decoder positions already cached
  int64_t rows() const override { return cross_bias.size(0) * group; }
  // Re-selects rows: new row i continues old row index[i] (index may shrink, grow or permute the batch). While
  // every row stays within its group (beam search does), only the self-attention caches move; otherwise the
  // shared cross-attention entries are first expanded to one per row.
  void select_rows(const torch::Tensor& index) override;
};

struct T5FeedForward {
  std::optional<Linear> wi, wi_0, wi_1;  // wi for the plain FFN; wi_0 / wi_1 for the gated one
  Linear wo;
  std::string act;
  T5FeedForward(const Scope& scope, const T5Config& c);
  torch::Tensor forward(const torch::Tensor& x) const;
};

struct T5Block {
  T5Attention self_attention;                  // layer.0.SelfAttention
  T5LayerNorm self_attention_norm;             // layer.0.layer_norm
  std::optional<T5Attention> cross_attention;  // decoder: layer.1.EncDecAttention
  std::optional<T5LayerNorm> cross_attention_norm;
  T5FeedForward ff;     // layer.{1|2}.DenseReluDense
  T5LayerNorm ff_norm;  // layer.{1|2}.layer_norm
  T5Block(const Scope& scope, const T5Config& c, bool is_decoder, bool has_relative_attention_bias);
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& self_bias, const torch::Tensor& encoder_hidden,
                        const torch::Tensor& cross_bias) const;
  // forward(), checkpointed when `checkpoint` is set and gradients are being recorded.
  torch::Tensor run(const torch::Tensor& x, const torch::Tensor& self_bias, const torch::Tensor& encoder_hidden,
                    const torch::Tensor& cross_bias, bool checkpoint) const;
  // One decoder position with the cache: x (B, 1, D).
  torch::Tensor step(torch::Tensor x, const torch::Tensor& self_bias, DecoderLayerCache& cache,
                     const torch::Tensor& cross_bias, int64_t group) const;
};

struct T5Stack {
  std::vector<std::unique_ptr<T5Block>> blocks;
  T5LayerNorm final_layer_norm;
  bool is_decoder;
  bool gradient_checkpointing = false;  // recompute each block in backward instead of keeping its activations
  T5Stack(const Scope& scope, const T5Config& c, bool is_decoder);
  // Encoder: embeds (B, T, D), mask (B, T) of 0/1.
  torch::Tensor encode(const torch::Tensor& embeds, const torch::Tensor& mask) const;
  // Decoder (teacher forcing, causal): embeds (B, Td, D) attending to encoder_hidden under encoder_mask.
  torch::Tensor decode(const torch::Tensor& embeds, const torch::Tensor& encoder_hidden,
                       const torch::Tensor& encoder_mask) const;
  // Decoder: a cache holding every block's cross-attention keys/values for this encoder output.
  DecoderCache start_cache(const torch::Tensor& encoder_hidden, const torch::Tensor& encoder_mask) const;
  // Decoder: one new position per row, embeds (B, 1, D) -> hidden (B, 1, D); appends to the cache.
  torch::Tensor decode_step(const torch::Tensor& embeds, DecoderCache& cache) const;
};

// The T5 language model behind the LanguageModel seam: encode() runs the encoder over the prefix, decoding feeds
// decoder_start_token_id first and attends to the encoder output through per-block cross-attention caches.
struct T5ForConditionalGeneration : LanguageModel {
  T5Config config;
  torch::Tensor shared;  // (vocab, d_model); encoder/decoder embed_tokens are tied to it
  T5Stack encoder, decoder;
  torch::Tensor lm_head;  // (vocab, d_model); absent (tied to shared) when tie_word_embeddings
  T5ForConditionalGeneration(const Scope& scope, const T5Config& c);
  // Decoder hidden states -> logits (B, T, vocab).
  torch::Tensor logits(const torch::Tensor& decoder_hidden) const;

  const char* family() const override { return "t5"; }
  int64_t input_width() const override { return config.d_model; }
  int64_t vocab_size() const override { return config.vocab_size; }
  torch::Tensor embed(const torch::Tensor& ids) const override { return torch::embedding(shared, ids); }
  Prefix encode(const Prefix& prefix) const override;
  const char* encoded_name() const override { return "t5_encoder_last_hidden_state"; }
  torch::Tensor teacher_forced_logits(const Prefix& encoded, const torch::Tensor& labels,
                                      const torch::Tensor& decoder_input_ids) const override;
  std::unique_ptr<DecodingState> start_decoding(const Prefix& encoded, int64_t expand) const override;
  torch::Tensor decode_step(DecodingState& state, const torch::Tensor& tokens) const override;
  void set_gradient_checkpointing(bool on) override;
  void set_head_dtype(torch::ScalarType type) override;
};

// additive mask from a 0/1 mask: (1 - mask) * finfo(dtype).min, shaped (B, 1, 1, T)
torch::Tensor extended_attention_mask(const torch::Tensor& mask, torch::ScalarType dtype);

// T5's _shift_right: prepend decoder_start_token_id, drop the last column, replace -100 with pad.
torch::Tensor shift_right(const torch::Tensor& labels, int64_t decoder_start_token_id, int64_t pad_token_id);

}  // namespace blip2

// OPT (decoder-only) behind the LanguageModel seam, as transformers' OPTForCausalLM: learned positions offset by 2
// and computed from the attention mask (padding does not shift them), causal self-attention with the queries scaled
// by head_dim^-0.5, pre- or post-layer-norm blocks, a ReLU feed-forward, optional project_in/out, and an lm_head
// tied to embed_tokens. BLIP-2 runs the prefix (queries, prompt) and the targets as one causal sequence.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "config.h"
#include "language_model.h"
#include "layers.h"

namespace blip2 {

// nn.LayerNorm with or without its affine weight and bias (layer_norm_elementwise_affine).
struct OptLayerNorm {
  torch::Tensor weight, bias;
  int64_t dim;
  OptLayerNorm(const Scope& scope, int64_t dim, bool affine);
  torch::Tensor forward(const torch::Tensor& x) const;
};

struct OptAttention {
  Linear k_proj, v_proj, q_proj, out_proj;  // registration order as transformers' OPTAttention
  int64_t num_heads, head_dim;
  double scaling;
  OptAttention(const Scope& scope, const OptConfig& c);
  // (B, T, D) -> (B, h, T, head_dim)
  torch::Tensor split_heads(const torch::Tensor& x) const;
  // softmax(max(q k^T + mask, finfo.min)) v, merged and projected: qs already scaled; mask (B, 1, Tq, Tk) additive.
  torch::Tensor attend(const torch::Tensor& qs, const torch::Tensor& ks, const torch::Tensor& vs,
                       const torch::Tensor& mask) const;
};

// One block's self-attention keys/values over every cached position: (R, h, S, head_dim).
struct OptLayerCache {
  torch::Tensor k, v;
};

struct OptDecoderLayer {
  OptAttention self_attn;
  OptLayerNorm self_attn_layer_norm;
  Linear fc1, fc2;
  OptLayerNorm final_layer_norm;
  bool pre_norm;
  std::string act;
  OptDecoderLayer(const Scope& scope, const OptConfig& c);
  // x (B, T, D); mask (B, 1, T, S) additive over the cached positions and these T. With a cache, appends this
  // call's keys/values to it and attends to all of them.
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& mask, OptLayerCache* cache) const;
  // forward() without a cache, checkpointed when `checkpoint` is set and gradients are being recorded.
  torch::Tensor run(const torch::Tensor& x, const torch::Tensor& mask, bool checkpoint) const;
};

// A decoding session: every block's keys/values, each row's key mask, and its count of unmasked positions (which
// gives the next position id). The first step returns the prefix's last logits, computed by start_decoding.
struct OptDecodingState : DecodingState {
  std::vector<OptLayerCache> layers;
  torch::Tensor key_mask;  // (R, S) long 0/1
  torch::Tensor real;      // (R) long: unmasked positions so far
  torch::Tensor pending;   // (R, vocab) logits for the first step, undefined afterwards
  int64_t rows() const override { return key_mask.size(0); }
  void select_rows(const torch::Tensor& index) override;
};

struct OptForCausalLM : LanguageModel {
  OptConfig config;
  torch::Tensor embed_tokens;     // (vocab, word_embed_proj_dim); also the lm_head when tied
  torch::Tensor embed_positions;  // (max_position_embeddings + 2, hidden)
  std::optional<Linear> project_in, project_out;
  std::vector<std::unique_ptr<OptDecoderLayer>> layers;
  std::optional<OptLayerNorm> final_layer_norm;
  torch::Tensor lm_head;  // (vocab, word_embed_proj_dim); absent when tied
  bool gradient_checkpointing = false;

  OptForCausalLM(const Scope& scope, const OptConfig& c);
  // inputs_embeds (B, T, word_embed_proj_dim) continuing `past` cached positions of each row: mask (B, past + T)
  // 0/1 over all of them. Returns the last hidden states (B, T, word_embed_proj_dim); appends to `cache` if given.
  torch::Tensor decode(const torch::Tensor& embeds, const torch::Tensor& mask, std::vector<OptLayerCache>* cache) const;
  torch::Tensor logits(const torch::Tensor& hidden) const;

  const char* family() const override { return "opt"; }
  int64_t input_width() const override { return config.word_embed_proj_dim; }
  int64_t vocab_size() const override { return config.vocab_size; }
  torch::Tensor embed(const torch::Tensor& ids) const override { return torch::embedding(embed_tokens, ids); }
  Prefix encode(const Prefix& prefix) const override { return prefix; }
  const char* encoded_name() const override { return nullptr; }
  torch::Tensor teacher_forced_logits(const Prefix& encoded, const torch::Tensor& labels,
                                      const torch::Tensor& decoder_input_ids) const override;
  std::unique_ptr<DecodingState> start_decoding(const Prefix& encoded, int64_t expand) const override;
  torch::Tensor decode_step(DecodingState& state, const torch::Tensor& tokens) const override;
  void set_gradient_checkpointing(bool on) override { gradient_checkpointing = on; }
  void set_head_dtype(torch::ScalarType type) override;
};

}  // namespace blip2

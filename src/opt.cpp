#include "opt.h"

#include "grad_checkpoint.h"
#include "ops.h"
#include "profile.h"

#include <stdexcept>

namespace blip2 {

OptLayerNorm::OptLayerNorm(const Scope& scope, int64_t d, bool affine) : dim(d) {
  if (affine) {
    scope.add("weight", {dim}, &weight);
    scope.add("bias", {dim}, &bias);
  }
}

torch::Tensor OptLayerNorm::forward(const torch::Tensor& x) const {
  return torch::layer_norm(x, {dim}, weight, bias, 1e-5);  // nn.LayerNorm's default eps
}

OptAttention::OptAttention(const Scope& scope, const OptConfig& c)
    : k_proj(scope.sub("k_proj"), c.hidden_size, c.hidden_size, c.enable_bias),
      v_proj(scope.sub("v_proj"), c.hidden_size, c.hidden_size, c.enable_bias),
      q_proj(scope.sub("q_proj"), c.hidden_size, c.hidden_size, c.enable_bias),
      out_proj(scope.sub("out_proj"), c.hidden_size, c.hidden_size, c.enable_bias),
      num_heads(c.num_attention_heads),
      head_dim(c.hidden_size / c.num_attention_heads),
      scaling(std::pow(static_cast<double>(c.hidden_size / c.num_attention_heads), -0.5)) {}

torch::Tensor OptAttention::split_heads(const torch::Tensor& x) const {
  return x.view({x.size(0), -1, num_heads, head_dim}).transpose(1, 2);
}

torch::Tensor OptAttention::attend(const torch::Tensor& qs, const torch::Tensor& ks, const torch::Tensor& vs,
                                   const torch::Tensor& mask) const {
  // queries scaled before the product; attn_weights + attention_mask clamped at finfo.min (a fully masked row stays
  // finite); softmax in the model's dtype, upcast to fp32 only for fp16 (as OPTAttention)
  const ops::AttentionSpec spec{ops::ScoreScale::None, 1.0, true, ops::SoftmaxPrecision::Float32ForHalf};
  return out_proj.forward(ops::attention(qs, ks, vs, mask, spec));
}

OptDecoderLayer::OptDecoderLayer(const Scope& scope, const OptConfig& c)
    : self_attn(scope.sub("self_attn"), c),
      self_attn_layer_norm(scope.sub("self_attn_layer_norm"), c.hidden_size, c.layer_norm_elementwise_affine),
      fc1(scope.sub("fc1"), c.hidden_size, c.ffn_dim, c.enable_bias),
      fc2(scope.sub("fc2"), c.ffn_dim, c.hidden_size, c.enable_bias),
      final_layer_norm(scope.sub("final_layer_norm"), c.hidden_size, c.layer_norm_elementwise_affine),
      pre_norm(c.do_layer_norm_before),
      act(c.activation_function) {}

torch::Tensor OptDecoderLayer::forward(torch::Tensor x, const torch::Tensor& mask, OptLayerCache* cache) const {
  const auto& sa = self_attn;
  auto h = pre_norm ? self_attn_layer_norm.forward(x) : x;
  // query_states = self.q_proj(hidden_states) * self.scaling
  auto q = sa.split_heads(sa.q_proj.forward(h) * sa.scaling);
  auto k = sa.split_heads(sa.k_proj.forward(h));
  auto v = sa.split_heads(sa.v_proj.forward(h));
  if (cache) {
    if (cache->k.defined()) {
      k = torch::cat({cache->k, k}, 2);
      v = torch::cat({cache->v, v}, 2);
    }
    cache->k = k;
    cache->v = v;
  }
  x = x + sa.attend(q, k, v, mask);
  if (!pre_norm) x = self_attn_layer_norm.forward(x);
  h = pre_norm ? final_layer_norm.forward(x) : x;
  x = x + fc2.forward(activation(act, fc1.forward(h)));
  if (!pre_norm) x = final_layer_norm.forward(x);
  return x;
}

torch::Tensor OptDecoderLayer::run(const torch::Tensor& x, const torch::Tensor& mask, bool checkpoint) const {
  if (!checkpoint) return forward(x, mask, nullptr);
  return checkpointed([this](const std::vector<torch::Tensor>& in) { return forward(in[0], in[1], nullptr); },
                      {x, mask});
}

void OptDecodingState::select_rows(const torch::Tensor& index) {
  auto idx = index.to(key_mask.device(), torch::kLong);
  const int64_t current = rows();
  if (idx.numel() > 0 && (idx.min().item<int64_t>() < 0 || idx.max().item<int64_t>() >= current))
    throw std::runtime_error("reorder indices must be between 0 and " + std::to_string(current - 1));
  for (auto& layer : layers) {
    layer.k = layer.k.index_select(0, idx);
    layer.v = layer.v.index_select(0, idx);
  }
  key_mask = key_mask.index_select(0, idx);
  if (pending.defined()) pending = pending.index_select(0, idx);
}

OptForCausalLM::OptForCausalLM(const Scope& scope, const OptConfig& c) : config(c) {
  check_activation(c.activation_function, "text_config.activation_function");
  if (c.hidden_size % c.num_attention_heads != 0)
    throw std::runtime_error("text_config.hidden_size must be divisible by num_attention_heads");
  // state-dict order of transformers' OPTDecoder: embed_tokens, embed_positions, project_out, project_in,
  // final_layer_norm, layers
  const Scope decoder = scope.sub("model").sub("decoder");
  decoder.add("embed_tokens.weight", {c.vocab_size, c.word_embed_proj_dim}, &embed_tokens);
  decoder.add("embed_positions.weight", {c.max_position_embeddings + 2, c.hidden_size}, &embed_positions);
  if (c.word_embed_proj_dim != c.hidden_size) {
    project_out.emplace(decoder.sub("project_out"), c.hidden_size, c.word_embed_proj_dim, false);
    project_in.emplace(decoder.sub("project_in"), c.word_embed_proj_dim, c.hidden_size, false);
  }
  if (c.do_layer_norm_before && !c.remove_final_layer_norm)
    final_layer_norm.emplace(decoder.sub("final_layer_norm"), c.hidden_size, c.layer_norm_elementwise_affine);
  for (int64_t i = 0; i < c.num_hidden_layers; ++i)
    layers.push_back(std::make_unique<OptDecoderLayer>(decoder.sub("layers").sub(i), c));
  if (c.tie_word_embeddings) {
    scope.params().tie(scope.join("lm_head.weight"), decoder.join("embed_tokens.weight"));
  } else {
    scope.add("lm_head.weight", {c.vocab_size, c.word_embed_proj_dim}, &lm_head);
  }
}

torch::Tensor OptForCausalLM::decode(const torch::Tensor& embeds, const torch::Tensor& mask,
                                     std::vector<OptLayerCache>* cache) const {
  const int64_t B = embeds.size(0), T = embeds.size(1), S = mask.size(1), past = S - T;
  const auto opts = torch::TensorOptions().device(embeds.device());
  auto m = mask.to(embeds.device(), torch::kLong);
  // OPTLearnedPositionalEmbedding: positions = cumsum(mask) * mask - 1, the last T of them, offset by 2 (padding
  // sits at position -1 and does not shift the tokens after it)
  auto positions = (m.cumsum(1) * m - 1).narrow(1, past, T) + 2;
  auto x = project_in ? project_in->forward(embeds) : embeds;
  x = x + torch::embedding(embed_positions, positions).to(x.scalar_type());
  // _prepare_4d_causal_attention_mask: finfo.min where a key lies after the query or is padding, 0 elsewhere
  auto query_at = torch::arange(past, S, opts.dtype(torch::kLong)).unsqueeze(1);  // (T, 1)
  auto key_at = torch::arange(S, opts.dtype(torch::kLong)).unsqueeze(0);          // (1, S)
  auto masked = (key_at > query_at).view({1, 1, T, S}) | (m == 0).view({B, 1, 1, S});
  auto additive =
      torch::zeros({B, 1, T, S}, opts.dtype(x.scalar_type())).masked_fill(masked, finfo_min(x.scalar_type()));
  for (size_t i = 0; i < layers.size(); ++i) {
    if (cache) {
      x = layers[i]->forward(x, additive, &(*cache)[i]);
    } else {
      x = layers[i]->run(x, additive, gradient_checkpointing);
    }
  }
  if (final_layer_norm) x = final_layer_norm->forward(x);
  if (project_out) x = project_out->forward(x);
  return x;
}

torch::Tensor OptForCausalLM::logits(const torch::Tensor& hidden) const {
  return lm_head.defined() ? linear_any(hidden, lm_head) : linear_any(hidden, embed_tokens);
}

torch::Tensor OptForCausalLM::teacher_forced_logits(const Prefix& encoded, const torch::Tensor& labels,
                                                    const torch::Tensor& decoder_input_ids) const {
  if (decoder_input_ids.defined()) {
    throw std::runtime_error(
        "decoder_input_ids is for encoder-decoder language models; an OPT model feeds the labels after the prompt");
  }
  if (!labels.defined()) throw std::runtime_error("forward needs labels to compute logits");
  const int64_t P = encoded.embeds.size(1), T = labels.size(1);
  // The sequence is [prefix; labels]: the prefix's last position predicts labels[:, 0] and labels[:, t] (fed at
  // position P + t) predicts labels[:, t + 1], so the last label is never fed. -100 marks padding: fed as pad and
  // masked out.
  auto fed = labels.narrow(1, 0, std::max<int64_t>(T - 1, 0));
  auto ignored = fed == -100;
  auto embeds = torch::cat(
      {encoded.embeds, embed(fed.masked_fill(ignored, config.pad_token_id)).to(encoded.embeds.scalar_type())}, 1);
  auto mask = torch::cat({encoded.mask.to(torch::kLong), (~ignored).to(torch::kLong)}, 1);
  auto hidden = decode(embeds, mask, nullptr);
  return logits(hidden.narrow(1, P - 1, T));
}

std::unique_ptr<DecodingState> OptForCausalLM::start_decoding(const Prefix& encoded, int64_t expand) const {
  auto mask = encoded.mask.to(torch::kLong);
  if (mask.size(1) == 0 || (mask.select(1, mask.size(1) - 1) == 0).any().item<bool>()) {
    throw std::runtime_error(
        "a decoder-only language model needs left-padded prompts: every row's last prompt "
        "position must be a token (pad on the left, as the OPT tokenizer's padding_side)");
  }
  auto state = std::make_unique<OptDecodingState>();
  state->layers.resize(layers.size());
  torch::Tensor hidden;
  {
    // the prefix once per image, then repeated for its rows
    profile::Scope timed(profile::Phase::TextEncoder);
    hidden = decode(encoded.embeds, mask, &state->layers);
  }
  state->pending = logits(hidden.narrow(1, hidden.size(1) - 1, 1)).squeeze(1);
  state->key_mask = mask;
  if (expand > 1) {
    for (auto& layer : state->layers) {
      layer.k = layer.k.repeat_interleave(expand, 0);
      layer.v = layer.v.repeat_interleave(expand, 0);
    }
    state->key_mask = state->key_mask.repeat_interleave(expand, 0);
    state->pending = state->pending.repeat_interleave(expand, 0);
  }
  return state;
}

torch::Tensor OptForCausalLM::decode_step(DecodingState& base, const torch::Tensor& tokens) const {
  auto& state = dynamic_cast<OptDecodingState&>(base);
  if (state.pending.defined()) {
    // the first step's token is the start token (BOS), which Hugging Face's BLIP-2 prepends to its output
    // without feeding it: the logits are the prefix's
    auto out = state.pending;
    state.pending = torch::Tensor();
    return out;
  }
  torch::Tensor hidden;
  {
    profile::Scope timed(profile::Phase::DecoderStep);
    state.key_mask = torch::cat({state.key_mask, torch::ones({state.rows(), 1}, state.key_mask.options())}, 1);
    hidden = decode(embed(tokens.unsqueeze(1)), state.key_mask, &state.layers);
  }
  profile::Scope timed(profile::Phase::LmHead);
  return logits(hidden).squeeze(1);
}

void OptForCausalLM::set_head_dtype(torch::ScalarType type) {
  if (lm_head.defined()) lm_head = lm_head.to(type);
}

}  // namespace blip2

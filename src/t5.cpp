#include "t5.h"

#include "grad_checkpoint.h"
#include "ops.h"
#include "profile.h"

#include <cmath>
#include <limits>

namespace blip2 {

namespace {

// transformers' T5Attention._relative_position_bucket, with the same tensor ops so the float32 log rounds
// exactly as it does there.
torch::Tensor relative_position_bucket(torch::Tensor relative_position, bool bidirectional, int64_t num_buckets,
                                       int64_t max_distance) {
  auto relative_buckets = torch::zeros_like(relative_position);
  if (bidirectional) {
    num_buckets /= 2;
    relative_buckets += (relative_position > 0).to(torch::kLong) * num_buckets;
    relative_position = torch::abs(relative_position);
  } else {
    // relative_position = -torch.min(relative_position, torch.zeros_like(relative_position))
    relative_position = -torch::min(relative_position, torch::zeros_like(relative_position));
  }
  const int64_t max_exact = num_buckets / 2;
  auto is_small = relative_position < max_exact;
  // max_exact + (torch.log(rel.float() / max_exact) / math.log(max_distance / max_exact)
  //              * (num_buckets - max_exact)).to(torch.long)
  auto if_large = max_exact + (torch::log(relative_position.to(torch::kFloat) / static_cast<double>(max_exact)) /
                               std::log(static_cast<double>(max_distance) / static_cast<double>(max_exact)) *
                               static_cast<double>(num_buckets - max_exact))
                                  .to(torch::kLong);
  if_large = torch::min(if_large, torch::full_like(if_large, num_buckets - 1));
  return relative_buckets + torch::where(is_small, relative_position, if_large);
}

}  // namespace

torch::Tensor extended_attention_mask(const torch::Tensor& mask, torch::ScalarType dtype) {
  auto m = mask.to(dtype).unsqueeze(1).unsqueeze(1);  // (B, 1, 1, T)
  return (1.0 - m) * finfo_min(dtype);
}

torch::Tensor shift_right(const torch::Tensor& labels, int64_t decoder_start_token_id, int64_t pad_token_id) {
  auto shifted = torch::empty_like(labels);
  shifted.narrow(1, 1, labels.size(1) - 1).copy_(labels.narrow(1, 0, labels.size(1) - 1));
  shifted.select(1, 0).fill_(decoder_start_token_id);
  return shifted.masked_fill(shifted == -100, pad_token_id);
}

T5LayerNorm::T5LayerNorm(const Scope& scope, int64_t dim, double eps_) : eps(eps_) {
  scope.add("weight", {dim}, &weight);
}

torch::Tensor T5LayerNorm::forward(const torch::Tensor& x) const { return ops::rms_norm(x, weight, eps); }

T5Attention::T5Attention(const Scope& scope, const T5Config& c, bool has_bias, bool decoder)
    : q(scope.sub("q"), c.d_model, c.inner_dim(), false),
      k(scope.sub("k"), c.d_model, c.inner_dim(), false),
      v(scope.sub("v"), c.d_model, c.inner_dim(), false),
      o(scope.sub("o"), c.inner_dim(), c.d_model, false),
      has_relative_attention_bias(has_bias),
      is_decoder(decoder),
      num_heads(c.num_heads),
      d_kv(c.d_kv),
      num_buckets(c.relative_attention_num_buckets),
      max_distance(c.relative_attention_max_distance) {
  if (has_bias) scope.add("relative_attention_bias.weight", {num_buckets, num_heads}, &relative_attention_bias);
}

torch::Tensor T5Attention::compute_bias(int64_t q_len, int64_t k_len, int64_t q_offset) const {
  auto opts = torch::TensorOptions().dtype(torch::kLong).device(relative_attention_bias.device());
  auto context_position = torch::arange(q_offset, q_offset + q_len, opts).unsqueeze(1);
  auto memory_position = torch::arange(k_len, opts).unsqueeze(0);
  auto buckets = relative_position_bucket(memory_position - context_position, !is_decoder, num_buckets, max_distance);
  auto values = torch::embedding(relative_attention_bias, buckets);  // (q, k, h)
  return values.permute({2, 0, 1}).unsqueeze(0);                     // (1, h, q, k)
}

torch::Tensor T5Attention::split_heads(const torch::Tensor& x) const {
  return x.view({x.size(0), -1, num_heads, d_kv}).transpose(1, 2);
}

namespace {
// T5: no 1/sqrt(d_kv) scaling, the position bias and masks added, the softmax in fp32; a decoder step's single query
// as products and sums (ops::AttentionSpec::single_query_products)
const ops::AttentionSpec kT5Attention{ops::ScoreScale::None, 1.0, false, ops::SoftmaxPrecision::Float32, true};
}  // namespace

torch::Tensor T5Attention::attend(const torch::Tensor& qs, const torch::Tensor& ks, const torch::Tensor& vs,
                                  const torch::Tensor& bias) const {
  return o.forward(ops::attention(qs, ks, vs, bias, kT5Attention));
}

torch::Tensor T5Attention::attend_shared(const torch::Tensor& qs, const torch::Tensor& ks, const torch::Tensor& vs,
                                         const torch::Tensor& bias, int64_t group) const {
  if (group == 1) return attend(qs, ks, vs, bias);
  const int64_t R = qs.size(0), B = R / group;
  // (R, h, 1, d) -> (B, h, group, d): each image's rows query its keys together
  auto q = qs.view({B, group, num_heads, d_kv}).transpose(1, 2);
  return o.forward(ops::attention(q, ks, vs, bias, kT5Attention).reshape({R, 1, num_heads * d_kv}));
}

torch::Tensor T5Attention::forward(const torch::Tensor& hidden, const torch::Tensor& kv_input,
                                   const torch::Tensor& bias) const {
  return attend(split_heads(q.forward(hidden)), split_heads(k.forward(kv_input)), split_heads(v.forward(kv_input)),
                bias);
}

void DecoderCache::select_rows(const torch::Tensor& index) {
  auto idx = index.to(cross_bias.device(), torch::kLong);
  const int64_t current = rows();  // every index must name one of them
  if (idx.numel() > 0 && (idx.min().item<int64_t>() < 0 || idx.max().item<int64_t>() >= current))
    throw std::runtime_error("reorder indices must be between 0 and " + std::to_string(current - 1));
  if (group > 1) {
    const auto n = idx.size(0);
    const bool within = n == rows() && torch::equal(torch::div(idx, group, "floor"),
                                                    torch::div(torch::arange(n, idx.options()), group, "floor"));
    if (!within) {
      // rows leave their group: one cross-attention entry per row from now on
      cross_bias = cross_bias.repeat_interleave(group, 0);
      for (auto& layer : layers) {
        layer.cross_k = layer.cross_k.repeat_interleave(group, 0);
        layer.cross_v = layer.cross_v.repeat_interleave(group, 0);
      }
      group = 1;
    }
  }
  if (group == 1) {
    cross_bias = cross_bias.index_select(0, idx);
    for (auto& layer : layers) {
      layer.cross_k = layer.cross_k.index_select(0, idx);
      layer.cross_v = layer.cross_v.index_select(0, idx);
    }
  }
  for (auto& layer : layers) {
    if (layer.self_k.defined()) {
      layer.self_k = layer.self_k.index_select(0, idx);
      layer.self_v = layer.self_v.index_select(0, idx);
    }
  }
}

T5FeedForward::T5FeedForward(const Scope& scope, const T5Config& c)
    : wo(scope.sub("wo"), c.d_ff, c.d_model, false), act(c.dense_act_fn) {
  if (c.is_gated_act) {
    wi_0.emplace(scope.sub("wi_0"), c.d_model, c.d_ff, false);
    wi_1.emplace(scope.sub("wi_1"), c.d_model, c.d_ff, false);
  } else {
    wi.emplace(scope.sub("wi"), c.d_model, c.d_ff, false);
  }
}

torch::Tensor T5FeedForward::forward(const torch::Tensor& x) const {
  torch::Tensor h = wi ? activation(act, wi->forward(x)) : activation(act, wi_0->forward(x)) * wi_1->forward(x);
  // HF casts h to wo's dtype when they differ (its fp16 T5 keeps wo in fp32). Here they differ only in the
  // bfloat16-mixed mode, where the Linear runs the product in the weight's dtype and returns fp32.
  return wo.forward(h);
}

namespace {
torch::Tensor clamp_fp16(const torch::Tensor& x) {
  if (x.scalar_type() != torch::kFloat16) return x;
  // clamp inf values to enable fp16 training, as transformers' T5Block does
  const double max = 65504.0;
  const double clamp_value = torch::isinf(x).any().item<bool>() ? max - 1000 : max;
  return torch::clamp(x, -clamp_value, clamp_value);
}
}  // namespace

T5Block::T5Block(const Scope& scope, const T5Config& c, bool is_decoder, bool has_bias)
    : self_attention(scope.sub("layer.0.SelfAttention"), c, has_bias, is_decoder),
      self_attention_norm(scope.sub("layer.0.layer_norm"), c.d_model, c.layer_norm_epsilon),
      ff(scope.sub(is_decoder ? "layer.2.DenseReluDense" : "layer.1.DenseReluDense"), c),
      ff_norm(scope.sub(is_decoder ? "layer.2.layer_norm" : "layer.1.layer_norm"), c.d_model, c.layer_norm_epsilon) {
  if (is_decoder) {
    cross_attention.emplace(scope.sub("layer.1.EncDecAttention"), c, false, true);
    cross_attention_norm.emplace(scope.sub("layer.1.layer_norm"), c.d_model, c.layer_norm_epsilon);
  }
}

torch::Tensor T5Block::forward(torch::Tensor x, const torch::Tensor& self_bias, const torch::Tensor& encoder_hidden,
                               const torch::Tensor& cross_bias) const {
  auto normed = self_attention_norm.forward(x);
  x = clamp_fp16(x + self_attention.forward(normed, normed, self_bias));
  if (cross_attention) {
    x = clamp_fp16(x + cross_attention->forward(cross_attention_norm->forward(x), encoder_hidden, cross_bias));
  }
  return clamp_fp16(x + ff.forward(ff_norm.forward(x)));
}

torch::Tensor T5Block::run(const torch::Tensor& x, const torch::Tensor& self_bias, const torch::Tensor& encoder_hidden,
                           const torch::Tensor& cross_bias, bool checkpoint) const {
  if (!checkpoint) return forward(x, self_bias, encoder_hidden, cross_bias);
  return checkpointed([this](const std::vector<torch::Tensor>& in) { return forward(in[0], in[1], in[2], in[3]); },
                      {x, self_bias, encoder_hidden, cross_bias});
}

torch::Tensor T5Block::step(torch::Tensor x, const torch::Tensor& self_bias, DecoderLayerCache& cache,
                            const torch::Tensor& cross_bias, int64_t group) const {
  const auto& sa = self_attention;
  auto normed = self_attention_norm.forward(x);
  auto k_new = sa.split_heads(sa.k.forward(normed));
  auto v_new = sa.split_heads(sa.v.forward(normed));
  cache.self_k = cache.self_k.defined() ? torch::cat({cache.self_k, k_new}, 2) : k_new;
  cache.self_v = cache.self_v.defined() ? torch::cat({cache.self_v, v_new}, 2) : v_new;
  x = clamp_fp16(x + sa.attend(sa.split_heads(sa.q.forward(normed)), cache.self_k, cache.self_v, self_bias));
  const auto& ca = *cross_attention;
  auto cross_q = ca.split_heads(ca.q.forward(cross_attention_norm->forward(x)));
  x = clamp_fp16(x + ca.attend_shared(cross_q, cache.cross_k, cache.cross_v, cross_bias, group));
  return clamp_fp16(x + ff.forward(ff_norm.forward(x)));
}

T5Stack::T5Stack(const Scope& scope, const T5Config& c, bool decoder)
    : final_layer_norm(scope.sub("final_layer_norm"), c.d_model, c.layer_norm_epsilon), is_decoder(decoder) {
  const int64_t n = decoder ? c.num_decoder_layers : c.num_layers;
  for (int64_t i = 0; i < n; ++i)
    blocks.push_back(std::make_unique<T5Block>(scope.sub("block").sub(i), c, decoder, i == 0));
}

torch::Tensor T5Stack::encode(const torch::Tensor& embeds, const torch::Tensor& mask) const {
  const int64_t T = embeds.size(1);
  auto bias = blocks.front()->self_attention.compute_bias(T, T).to(embeds.scalar_type()) +
              extended_attention_mask(mask, embeds.scalar_type());
  torch::Tensor x = embeds;
  for (const auto& block : blocks) x = block->run(x, bias, {}, {}, gradient_checkpointing);
  return final_layer_norm.forward(x);
}

torch::Tensor T5Stack::decode(const torch::Tensor& embeds, const torch::Tensor& encoder_hidden,
                              const torch::Tensor& encoder_mask) const {
  const int64_t T = embeds.size(1);
  const auto dtype = embeds.scalar_type();
  auto causal = torch::ones({T, T}, torch::TensorOptions().dtype(torch::kBool).device(embeds.device())).tril();
  auto causal_bias = (1.0 - causal.to(dtype)) * finfo_min(dtype);  // (T, T)
  auto self_bias = blocks.front()->self_attention.compute_bias(T, T).to(dtype) + causal_bias;
  auto cross_bias = extended_attention_mask(encoder_mask, dtype);
  torch::Tensor x = embeds;
  for (const auto& block : blocks) x = block->run(x, self_bias, encoder_hidden, cross_bias, gradient_checkpointing);
  return final_layer_norm.forward(x);
}

DecoderCache T5Stack::start_cache(const torch::Tensor& encoder_hidden, const torch::Tensor& encoder_mask) const {
  DecoderCache cache;
  cache.cross_bias = extended_attention_mask(encoder_mask, encoder_hidden.scalar_type());
  for (const auto& block : blocks) {
    const auto& ca = *block->cross_attention;
    DecoderLayerCache layer;
    layer.cross_k = ca.split_heads(ca.k.forward(encoder_hidden));
    layer.cross_v = ca.split_heads(ca.v.forward(encoder_hidden));
    cache.layers.push_back(std::move(layer));
  }
  return cache;
}

torch::Tensor T5Stack::decode_step(const torch::Tensor& embeds, DecoderCache& cache) const {
  // The new token sits at position `length` and may attend to every cached position and itself, so no
  // causal mask is needed; the bias row is the one HF slices out with position_bias[:, :, -1:, :].
  auto self_bias =
      blocks.front()->self_attention.compute_bias(1, cache.length + 1, cache.length).to(embeds.scalar_type());
  torch::Tensor x = embeds;
  for (size_t i = 0; i < blocks.size(); ++i) {
    x = blocks[i]->step(x, self_bias, cache.layers[i], cache.cross_bias, cache.group);
  }
  cache.length += 1;
  return final_layer_norm.forward(x);
}

T5ForConditionalGeneration::T5ForConditionalGeneration(const Scope& scope, const T5Config& c)
    : config(c), encoder(scope.sub("encoder"), c, false), decoder(scope.sub("decoder"), c, true) {
  check_activation(c.dense_act_fn, "text_config.dense_act_fn");
  scope.add("shared.weight", {c.vocab_size, c.d_model}, &shared);
  scope.params().tie(scope.join("encoder.embed_tokens.weight"), scope.join("shared.weight"));
  scope.params().tie(scope.join("decoder.embed_tokens.weight"), scope.join("shared.weight"));
  if (c.tie_word_embeddings) {
    scope.params().tie(scope.join("lm_head.weight"), scope.join("shared.weight"));
  } else {
    scope.add("lm_head.weight", {c.vocab_size, c.d_model}, &lm_head);
  }
}

torch::Tensor T5ForConditionalGeneration::logits(const torch::Tensor& decoder_hidden) const {
  if (config.tie_word_embeddings) {
    // sequence_output = sequence_output * (self.model_dim**-0.5)
    return torch::linear(decoder_hidden * std::pow(static_cast<double>(config.d_model), -0.5), shared);
  }
  return linear_any(decoder_hidden, lm_head);
}

Prefix T5ForConditionalGeneration::encode(const Prefix& prefix) const {
  profile::Scope timed(profile::Phase::TextEncoder);
  return {encoder.encode(prefix.embeds, prefix.mask), prefix.mask};
}

torch::Tensor T5ForConditionalGeneration::teacher_forced_logits(const Prefix& encoded, const torch::Tensor& labels,
                                                                const torch::Tensor& decoder_input_ids) const {
  torch::Tensor decoder_ids;
  if (decoder_input_ids.defined()) {
    decoder_ids = decoder_input_ids;
  } else if (labels.defined()) {
    decoder_ids = shift_right(labels, config.decoder_start_token_id, config.pad_token_id);
  } else {
    throw std::runtime_error("forward needs labels or decoder_input_ids to compute logits");
  }
  return logits(decoder.decode(embed(decoder_ids), encoded.embeds, encoded.mask));
}

std::unique_ptr<DecodingState> T5ForConditionalGeneration::start_decoding(const Prefix& encoded, int64_t expand) const {
  // keys/values once per image: the `expand` rows of an image share them (DecoderCache::group)
  profile::Scope timed(profile::Phase::CrossKV);
  auto cache = std::make_unique<DecoderCache>(decoder.start_cache(encoded.embeds, encoded.mask));
  cache->group = expand;
  return cache;
}

torch::Tensor T5ForConditionalGeneration::decode_step(DecodingState& state, const torch::Tensor& tokens) const {
  auto& cache = dynamic_cast<DecoderCache&>(state);
  torch::Tensor hidden;
  {
    profile::Scope timed(profile::Phase::DecoderStep);
    hidden = decoder.decode_step(embed(tokens.unsqueeze(1)), cache);
  }
  profile::Scope timed(profile::Phase::LmHead);
  return logits(hidden).squeeze(1);
}

void T5ForConditionalGeneration::set_gradient_checkpointing(bool on) {
  encoder.gradient_checkpointing = on;
  decoder.gradient_checkpointing = on;
}

void T5ForConditionalGeneration::set_head_dtype(torch::ScalarType type) {
  if (lm_head.defined()) lm_head = lm_head.to(type);
}

}  // namespace blip2

#include "blip2.h"

#include "profile.h"

#include <stdexcept>

namespace blip2 {

const std::set<std::string> kForwardOutputs = {
    "vision_last_hidden_state", "vision_pooler_output", "qformer_last_hidden_state", "qformer_pooler_output",
    "language_projection",      "lm_inputs_embeds",     "lm_attention_mask",         "t5_encoder_last_hidden_state",
    "logits",                   "loss",                 "token_logprobs"};

torch::Tensor token_log_probs(const torch::Tensor& logits, const torch::Tensor& labels) {
  auto ignored = labels == -100;
  auto logprobs = torch::log_softmax(logits.to(torch::kFloat32), -1)
                      .gather(-1, labels.masked_fill(ignored, 0).unsqueeze(-1))
                      .squeeze(-1);
  return logprobs.masked_fill(ignored, 0.0);
}

Blip2Model::Blip2Model(const Blip2Config& c)
    : config(c),
      vision_model(Scope(params, "vision_model"), c.vision),
      qformer(Scope(params, "qformer"), c.qformer),
      language_projection(Scope(params, "language_projection"), c.qformer.hidden_size, c.text.d_model, true),
      language_model(Scope(params, "language_model"), c.text) {
  params.add("query_tokens", {1, c.num_query_tokens, c.qformer.hidden_size}, &query_tokens);
}

Blip2Model::Encoded Blip2Model::encoder_pass(const torch::Tensor& pixel_values, const torch::Tensor& input_ids_in,
                                             const torch::Tensor& attention_mask, const Keep& keep,
                                             bool run_encoder) const {
  const auto dtype = this->dtype();
  const auto dev = device();
  const int64_t B = pixel_values.size(0);

  // The frozen vision tower needs no autograd graph unless adapters sit inside it.
  VisionOutput vision;
  {
    profile::Scope timed(profile::Phase::Vision);
    if (torch::GradMode::is_enabled() && !vision_needs_grad()) {
      torch::NoGradGuard no_grad;
      vision = vision_model.forward(pixel_values.to(dev, dtype));
    } else {
      vision = vision_model.forward(pixel_values.to(dev, dtype));
    }
  }
  keep("vision_last_hidden_state", vision.last_hidden_state);
  keep("vision_pooler_output", vision.pooler_output);

  auto qf = [&] {
    profile::Scope timed(profile::Phase::QFormer);
    return qformer.forward(query_tokens.expand({B, -1, -1}), vision.last_hidden_state);
  }();
  keep("qformer_last_hidden_state", qf.last_hidden_state);
  keep("qformer_pooler_output", qf.pooler_output);

  torch::Tensor embeds, mask;
  {
    profile::Scope timed(profile::Phase::Projection);
    auto projected = language_projection.forward(qf.last_hidden_state);  // (B, Q, d_model)
    keep("language_projection", projected);

    auto input_ids = input_ids_in.to(dev, torch::kLong);
    auto prompt_mask = attention_mask.defined() ? attention_mask.to(dev, torch::kLong) : torch::ones_like(input_ids);
    // inputs_embeds = torch.cat([language_model_inputs, inputs_embeds], dim=1): the queries come first
    embeds = torch::cat({projected, language_model.embed(input_ids).to(projected.scalar_type())}, 1);
    mask = torch::cat({torch::ones({B, projected.size(1)}, prompt_mask.options()), prompt_mask}, 1);
  }
  keep("lm_inputs_embeds", embeds);
  keep("lm_attention_mask", mask);
  if (!run_encoder) return {embeds, mask};
  torch::Tensor hidden;
  {
    profile::Scope timed(profile::Phase::TextEncoder);
    hidden = language_model.encoder.encode(embeds, mask);
  }
  keep("t5_encoder_last_hidden_state", hidden);
  return {hidden, mask};
}

void Blip2Model::set_matmul_dtype(torch::ScalarType type) {
  torch::NoGradGuard no_grad;
  for (const auto& [name, linear] : params.linears()) {
    linear->weight = linear->weight.to(type);
    if (linear->bias.defined()) linear->bias = linear->bias.to(type);
  }
  if (language_model.lm_head.defined()) language_model.lm_head = language_model.lm_head.to(type);
  matmul_dtype_ = type;
}

void Blip2Model::set_gradient_checkpointing(bool on) {
  vision_model.gradient_checkpointing = on;
  language_model.encoder.gradient_checkpointing = on;
  language_model.decoder.gradient_checkpointing = on;
}

bool Blip2Model::vision_needs_grad() const {
  if (vision_model.embeddings.patch_weight.requires_grad()) return true;  // full training
  for (const auto& [name, linear] : params.linears())
    if (linear->lora && name.compare(0, 13, "vision_model.") == 0) return true;
  return false;
}

Blip2Model::Encoded Blip2Model::encode(const torch::Tensor& pixel_values, const torch::Tensor& input_ids,
                                       const torch::Tensor& attention_mask) const {
  return encoder_pass(pixel_values, input_ids, attention_mask, [](const char*, const torch::Tensor&) {}, true);
}

DecoderCache Blip2Model::start_decoding(const Encoded& encoded, int64_t expand) const {
  // keys/values once per image: the `expand` rows of an image share them (DecoderCache::group)
  profile::Scope timed(profile::Phase::CrossKV);
  auto cache = language_model.decoder.start_cache(encoded.hidden, encoded.mask);
  cache.group = expand;
  return cache;
}

torch::Tensor Blip2Model::decode_step(DecoderCache& cache, const torch::Tensor& tokens) const {
  if (tokens.dim() != 1 || tokens.size(0) != cache.rows()) {
    throw std::runtime_error("decode step needs one token per cache row: " + std::to_string(cache.rows()) +
                             " rows but " + std::to_string(tokens.numel()) + " tokens");
  }
  auto ids = tokens.to(device(), torch::kLong).unsqueeze(1);  // (B, 1)
  torch::Tensor hidden;
  {
    profile::Scope timed(profile::Phase::DecoderStep);
    hidden = language_model.decoder.decode_step(language_model.embed(ids), cache);
  }
  profile::Scope timed(profile::Phase::LmHead);
  return language_model.logits(hidden).squeeze(1).to(torch::kFloat32);
}

std::map<std::string, torch::Tensor> Blip2Model::forward(const ForwardInputs& in,
                                                          const std::set<std::string>& want) const {
  for (const auto& name : want)
    if (!kForwardOutputs.count(name)) throw std::runtime_error("unknown forward output \"" + name + "\"");
  std::map<std::string, torch::Tensor> out;
  auto keep = [&](const char* name, const torch::Tensor& t) {
    if (want.count(name)) out[name] = t;
  };
  const auto dev = device();
  const bool need_decoder = want.count("logits") || want.count("loss") || want.count("token_logprobs");
  auto encoded = encoder_pass(in.pixel_values, in.input_ids, in.attention_mask, keep,
                              need_decoder || want.count("t5_encoder_last_hidden_state"));
  if (!need_decoder) return out;
  // The image's rows are identical up to here; repeat_interleave's backward sums the R copies' gradients.
  const auto encoder_hidden = in.image_repeat > 1 ? encoded.hidden.repeat_interleave(in.image_repeat, 0) : encoded.hidden;
  const auto mask = in.image_repeat > 1 ? encoded.mask.repeat_interleave(in.image_repeat, 0) : encoded.mask;

  torch::Tensor labels = in.labels.defined() ? in.labels.to(dev, torch::kLong) : torch::Tensor();
  torch::Tensor decoder_ids;
  if (in.decoder_input_ids.defined()) {
    decoder_ids = in.decoder_input_ids.to(dev, torch::kLong);
  } else if (labels.defined()) {
    decoder_ids = shift_right(labels, config.text.decoder_start_token_id, config.text.pad_token_id);
  } else {
    throw std::runtime_error("forward needs labels or decoder_input_ids to compute logits");
  }
  auto decoder_hidden = language_model.decoder.decode(language_model.embed(decoder_ids), encoder_hidden, mask);
  auto logits = language_model.logits(decoder_hidden);
  keep("logits", logits);
  if (want.count("loss")) {
    if (!labels.defined()) throw std::runtime_error("loss needs labels");
    // CrossEntropyLoss(ignore_index=-100): mean over every non-ignored token of the batch
    auto loss = torch::nn::functional::cross_entropy(
        logits.reshape({-1, logits.size(-1)}).to(torch::kFloat32), labels.reshape({-1}),
        torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100));
    out["loss"] = loss;
  }
  if (want.count("token_logprobs")) {
    if (!labels.defined()) throw std::runtime_error("token_logprobs needs labels");
    out["token_logprobs"] = token_log_probs(logits, labels);
  }
  return out;
}

}  // namespace blip2

#include "blip2.h"

#include "opt.h"
#include "profile.h"
#include "t5.h"

#include <stdexcept>

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace blip2 {

const std::set<std::string> kForwardOutputs = {"vision_last_hidden_state",
                                               "vision_pooler_output",
                                               "qformer_last_hidden_state",
                                               "qformer_pooler_output",
                                               "language_projection",
                                               "lm_inputs_embeds",
                                               "lm_attention_mask",
                                               "t5_encoder_last_hidden_state",
                                               "logits",
                                               "loss",
                                               "token_logprobs"};

torch::Tensor token_log_probs(const torch::Tensor& logits, const torch::Tensor& labels) {
  auto ignored = labels == -100;
  auto logprobs = torch::log_softmax(logits.to(torch::kFloat32), -1)
                      .gather(-1, labels.masked_fill(ignored, 0).unsqueeze(-1))
                      .squeeze(-1);
  return logprobs.masked_fill(ignored, 0.0);
}

namespace {

// The width language_projection maps the queries to: text_config.hidden_size (T5's d_model).
int64_t text_hidden_size(const Blip2Config& c) {
  if (const auto* t5 = std::get_if<T5Config>(&c.text)) return t5->d_model;
  return std::get<OptConfig>(c.text).hidden_size;
}

std::unique_ptr<LanguageModel> make_language_model(const Scope& scope, const Blip2Config& c) {
  if (const auto* t5 = std::get_if<T5Config>(&c.text)) return std::make_unique<T5ForConditionalGeneration>(scope, *t5);
  const auto& opt = std::get<OptConfig>(c.text);
  if (opt.word_embed_proj_dim != opt.hidden_size) {
    // BLIP-2 concatenates the projected queries (hidden_size wide) with token embeddings (word_embed_proj_dim wide)
    throw std::runtime_error("BLIP-2 needs text_config.word_embed_proj_dim (" +
                             std::to_string(opt.word_embed_proj_dim) + ") equal to hidden_size (" +
                             std::to_string(opt.hidden_size) + ")");
  }
  return std::make_unique<OptForCausalLM>(scope, opt);
}

}  // namespace

Blip2Model::Blip2Model(const Blip2Config& c)
    : config(c),
      vision_model(Scope(params, "vision_model"), c.vision),
      qformer(Scope(params, "qformer"), c.qformer),
      language_projection(Scope(params, "language_projection"), c.qformer.hidden_size, text_hidden_size(c), true),
      language_model(make_language_model(Scope(params, "language_model"), c)) {
  params.add("query_tokens", {1, c.num_query_tokens, c.qformer.hidden_size}, &query_tokens);
}

Prefix Blip2Model::encoder_pass(const torch::Tensor& pixel_values, const torch::Tensor& input_ids_in,
                                const torch::Tensor& attention_mask, const Keep& keep, bool run_encoder) const {
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
    embeds = torch::cat({projected, language_model->embed(input_ids).to(projected.scalar_type())}, 1);
    mask = torch::cat({torch::ones({B, projected.size(1)}, prompt_mask.options()), prompt_mask}, 1);
  }
  keep("lm_inputs_embeds", embeds);
  keep("lm_attention_mask", mask);
  if (!run_encoder) return {embeds, mask};
  auto encoded = language_model->encode({embeds, mask});
  if (const char* name = language_model->encoded_name()) keep(name, encoded.embeds);
  return encoded;
}

void Blip2Model::set_matmul_dtype(torch::ScalarType type) {
  torch::NoGradGuard no_grad;
  for (const auto& [name, linear] : params.linears()) {
    linear->weight = linear->weight.to(type);
    if (linear->bias.defined()) linear->bias = linear->bias.to(type);
  }
  language_model->set_head_dtype(type);
  matmul_dtype_ = type;
}

std::set<std::string> Blip2Model::matmul_parameters() const {
  std::set<std::string> names;
  for (const auto& [name, linear] : params.linears()) {
    names.insert(name + ".weight");
    if (params.find(name + ".bias")) names.insert(name + ".bias");
  }
  if (params.find("language_model.lm_head.weight")) names.insert("language_model.lm_head.weight");
  return names;
}

void Blip2Model::quantize_linears() {
  if (dtype() != torch::kFloat32 || matmul_dtype_ || device() != torch::Device(torch::kCPU))
    throw std::runtime_error("dtype 'int8' quantizes a float32 model on the CPU");
  torch::NoGradGuard no_grad;
  for (const auto& [name, linear] : params.linears()) linear->quantize();
  quantized_ = true;
#ifdef __GLIBC__
  // The freed fp32 weights lie between the tensors that stay; glibc keeps such holes mapped, so hand their whole
  // pages back to the system (as Params::randomize does for its fp32 draws)
  malloc_trim(0);
#endif
}

void Blip2Model::require_float_weights(const std::string& what) const {
  if (!quantized_) return;
  throw std::runtime_error(what + " needs the float32 Linear weights, which a model loaded with dtype 'int8' no " +
                           "longer has; load it with dtype 'float32' or 'bfloat16-mixed' to train, merge or save");
}

void Blip2Model::set_gradient_checkpointing(bool on) {
  vision_model.gradient_checkpointing = on;
  language_model->set_gradient_checkpointing(on);
}

bool Blip2Model::vision_needs_grad() const {
  if (vision_model.embeddings.patch_weight.requires_grad()) return true;  // full training
  for (const auto& [name, linear] : params.linears())
    if (linear->lora && name.compare(0, 13, "vision_model.") == 0) return true;
  return false;
}

Prefix Blip2Model::encode(const torch::Tensor& pixel_values, const torch::Tensor& input_ids,
                          const torch::Tensor& attention_mask) const {
  return encoder_pass(pixel_values, input_ids, attention_mask, [](const char*, const torch::Tensor&) {}, true);
}

std::unique_ptr<DecodingState> Blip2Model::start_decoding(const Prefix& encoded, int64_t expand) const {
  return language_model->start_decoding(encoded, expand);
}

torch::Tensor Blip2Model::decode_step(DecodingState& state, const torch::Tensor& tokens, bool log_probs) const {
  if (tokens.dim() != 1 || tokens.size(0) != state.rows()) {
    throw std::runtime_error("decode step needs one token per cache row: " + std::to_string(state.rows()) +
                             " rows but " + std::to_string(tokens.numel()) + " tokens");
  }
  auto logits = language_model->decode_step(state, tokens.to(device(), torch::kLong)).to(torch::kFloat32);
  if (!log_probs) return logits;
  profile::Scope timed(profile::Phase::Scores);
  return torch::log_softmax(logits, -1);
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
  const char* encoded_name = language_model->encoded_name();
  if (!encoded_name && want.count("t5_encoder_last_hidden_state")) {
    throw std::runtime_error(
        std::string("forward output \"t5_encoder_last_hidden_state\" needs a T5 language model; this one is ") +
        language_model->family());
  }
  auto encoded = encoder_pass(in.pixel_values, in.input_ids, in.attention_mask, keep,
                              need_decoder || want.count("t5_encoder_last_hidden_state"));
  if (!need_decoder) return out;
  // The image's rows are identical up to here; repeat_interleave's backward sums the R copies' gradients.
  if (in.image_repeat > 1) {
    encoded.embeds = encoded.embeds.repeat_interleave(in.image_repeat, 0);
    encoded.mask = encoded.mask.repeat_interleave(in.image_repeat, 0);
  }
  torch::Tensor labels = in.labels.defined() ? in.labels.to(dev, torch::kLong) : torch::Tensor();
  torch::Tensor decoder_ids =
      in.decoder_input_ids.defined() ? in.decoder_input_ids.to(dev, torch::kLong) : torch::Tensor();
  auto logits = language_model->teacher_forced_logits(encoded, labels, decoder_ids);
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

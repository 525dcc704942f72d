// Blip2ForConditionalGeneration with a Flan-T5 or OPT language model (behind the LanguageModel seam). Module names
// mirror Hugging Face's, so the parameter registry equals the key list of the model's weight files.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "config.h"
#include "language_model.h"
#include "layers.h"
#include "qformer.h"
#include "vision.h"

namespace blip2 {

struct ForwardInputs {
  torch::Tensor pixel_values;       // (B, 3, H, W) float
  torch::Tensor input_ids;          // (B, L) long: the prompt (left-padded for a decoder-only language model)
  torch::Tensor attention_mask;     // (B, L) 0/1; ones when undefined
  torch::Tensor labels;             // (B·R, Td) long: the targets after the prompt, -100 ignored; optional
  torch::Tensor decoder_input_ids;  // (B·R, Td) long, T5 only; shift_right(labels) when undefined
  // R: each image's prefix (vision, Q-Former, T5 encoder: computed once for its B images) serves R
  // consecutive decoder rows (repeat_interleave), e.g. SCST's R captions per image; labels have B·R rows.
  int64_t image_repeat = 1;
};

// Names of the tensors forward() can return.
extern const std::set<std::string> kForwardOutputs;

// log p(labels[b, t]) under logits[b, t] (log-softmax in fp32), 0 where the label is -100: (B, T) from logits
// (B, T, V) aligned with the labels (LanguageModel::teacher_forced_logits).
torch::Tensor token_log_probs(const torch::Tensor& logits, const torch::Tensor& labels);

class Blip2Model {
 public:
  explicit Blip2Model(const Blip2Config& config);

  Params params;  // declared first: every module below registers into it
  Blip2Config config;
  VisionModel vision_model;
  torch::Tensor query_tokens;  // (1, Q, Dq)
  QFormerModel qformer;
  Linear language_projection;
  std::unique_ptr<LanguageModel> language_model;  // T5ForConditionalGeneration or OptForCausalLM

  torch::ScalarType dtype() const { return query_tokens.defined() ? query_tokens.scalar_type() : torch::kFloat32; }
  // The dtype of the Linear weights and the LM head: dtype() unless set_matmul_dtype chose a narrower one.
  torch::ScalarType matmul_dtype() const { return matmul_dtype_.value_or(dtype()); }
  // Mixed precision: stores every Linear weight and bias (and an untied LM head) in `type` (bfloat16), so their
  // products run in it, and keeps everything else (embeddings, norms, attention, the residual stream, LoRA
  // adapters) in dtype(). Call after the weights are loaded; loading matmul_parameters() in `type` to begin with
  // (Params::load's `narrow`) keeps the load's peak at the mixed model's size.
  void set_matmul_dtype(torch::ScalarType type);
  // The parameter names set_matmul_dtype stores in the narrower dtype.
  std::set<std::string> matmul_parameters() const;
  // The dtype option's 'int8' (quantize.h): every Linear in params.linears() (not the LM head, not the embeddings)
  // packs its weight and bias to int8 and frees them; the rest stays in dtype() (float32). Inference only: what
  // reads the Linear weights (saving, reloading, training, merging adapters) is refused through
  // require_float_weights. Call after the weights are loaded in float32: the load peaks at the float32 model.
  void quantize_linears();
  bool quantized() const { return quantized_; }
  // Throws, naming `what`, dtype 'int8' and the fix, when the Linear weights are int8 (quantize_linears).
  void require_float_weights(const std::string& what) const;
  torch::Device device() const { return query_tokens.defined() ? query_tokens.device() : torch::Device(torch::kCPU); }
  // Activation recomputation in backward for the vision encoder layers and the language model's blocks.
  void set_gradient_checkpointing(bool on);

  // Full forward pass (eval-mode semantics: no dropout). Returns the requested outputs by name
  // (see kForwardOutputs); "loss" needs labels.
  std::map<std::string, torch::Tensor> forward(const ForwardInputs& inputs, const std::set<std::string>& want) const;

  // Image + prompt -> the language model's encoded prefix (queries first), for decoding.
  Prefix encode(const torch::Tensor& pixel_values, const torch::Tensor& input_ids,
                const torch::Tensor& attention_mask) const;
  // A decoding session over `encoded` with each row repeated `expand` times (torch.repeat_interleave order).
  std::unique_ptr<DecodingState> start_decoding(const Prefix& encoded, int64_t expand) const;
  // Feeds one token per row; returns next-token logits (rows, vocab) in fp32, or their log-softmax (computed in
  // fp32) when log_probs is set.
  torch::Tensor decode_step(DecodingState& state, const torch::Tensor& tokens, bool log_probs = false) const;

 private:
  std::optional<torch::ScalarType> matmul_dtype_;
  bool quantized_ = false;
  bool vision_needs_grad() const;
  using Keep = std::function<void(const char*, const torch::Tensor&)>;
  // vision -> Q-Former -> projection -> [queries; prompt] (-> the language model's encode() when run_encoder).
  Prefix encoder_pass(const torch::Tensor& pixel_values, const torch::Tensor& input_ids,
                      const torch::Tensor& attention_mask, const Keep& keep, bool run_encoder) const;
};

}  // namespace blip2

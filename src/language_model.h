// The language-model seam. BLIP-2 feeds its language model a prefix — the projected query embeddings followed by
// the prompt's token embeddings — and reads next-token logits back. An encoder-decoder (T5) encodes the prefix once
// and decodes targets against it; a decoder-only model (OPT) runs the prefix and the targets as one causal sequence.
// Blip2Model holds one LanguageModel and never looks past this interface.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>

namespace blip2 {

// The prefix: embeddings (B, P, D) and their 0/1 mask (B, P) long, queries first.
struct Prefix {
  torch::Tensor embeds;
  torch::Tensor mask;
};

// The per-batch state of a KV-cached decoding session (the family's caches behind one interface).
class DecodingState {
 public:
  virtual ~DecodingState() = default;
  // Rows currently decoded.
  virtual int64_t rows() const = 0;
  // Re-selects rows: new row i continues old row index[i] (index may shrink, grow or permute the batch).
  virtual void select_rows(const torch::Tensor& index) = 0;
};

class LanguageModel {
 public:
  virtual ~LanguageModel() = default;
  // "t5" or "opt": the text_config.model_type this implements.
  virtual const char* family() const = 0;
  // Width of the prefix embeddings (what language_projection must produce).
  virtual int64_t input_width() const = 0;
  virtual int64_t vocab_size() const = 0;
  // Token embeddings of ids (B, L) -> (B, L, input_width).
  virtual torch::Tensor embed(const torch::Tensor& ids) const = 0;

  // Whatever can be computed from the prefix alone, once per image: T5 runs its encoder over it (the returned
  // embeds are the encoder's last hidden state); a decoder-only model returns it unchanged.
  virtual Prefix encode(const Prefix& prefix) const = 0;
  // The model's own name for encode()'s result, or nullptr when encode() is the identity.
  virtual const char* encoded_name() const = 0;

  // Teacher forcing. labels (B, T) long, -100 where ignored (padding); decoder_input_ids (B, T) are the tokens fed
  // (an encoder-decoder's shift-right of the labels when undefined; a decoder-only model feeds the labels
  // themselves after the prefix and rejects them). Returns logits (B, T, vocab) aligned with the labels:
  // logits[:, t] is the distribution that predicts labels[:, t].
  virtual torch::Tensor teacher_forced_logits(const Prefix& encoded, const torch::Tensor& labels,
                                              const torch::Tensor& decoder_input_ids) const = 0;

  // A decoding session over `encoded` with each row repeated `expand` times (torch.repeat_interleave order).
  virtual std::unique_ptr<DecodingState> start_decoding(const Prefix& encoded, int64_t expand) const = 0;
  // Feeds one token per row (rows,) and returns the next-token logits (rows, vocab) in the model's dtype. The first
  // step feeds the start token: T5's decoder_start_token_id; a decoder-only model ignores it (its first logits come
  // from the prefix) — the caller's sequences still begin with it, as Hugging Face's BLIP-2 prepends BOS.
  virtual torch::Tensor decode_step(DecodingState& state, const torch::Tensor& tokens) const = 0;

  // Activation recomputation in backward for every block.
  virtual void set_gradient_checkpointing(bool on) = 0;
  // Stores an untied LM head in `type` (the bfloat16-mixed mode; Linear layers are converted by the caller).
  virtual void set_head_dtype(torch::ScalarType type) = 0;
};

}  // namespace blip2

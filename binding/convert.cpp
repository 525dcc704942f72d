#include "convert.h"

#include <cstring>

namespace binding {

namespace {
Napi::Value get(const Napi::Object& obj, const char* key, const std::string& where) {
  if (!obj.Has(key)) throw Napi::TypeError::New(obj.Env(), "Missing " + where + "." + key);
  return obj.Get(key);
}
}  // namespace

int64_t read_int(const Napi::Object& obj, const char* key, const std::string& where) {
  auto v = get(obj, key, where);
  if (!v.IsNumber()) throw Napi::TypeError::New(obj.Env(), "Expected integer for " + where + "." + key);
  double d = v.As<Napi::Number>().DoubleValue();
  if (d != static_cast<double>(static_cast<int64_t>(d)))
    throw Napi::TypeError::New(obj.Env(), "Expected integer for " + where + "." + key);
  return static_cast<int64_t>(d);
}

double read_double(const Napi::Object& obj, const char* key, const std::string& where) {
  auto v = get(obj, key, where);
  if (!v.IsNumber()) throw Napi::TypeError::New(obj.Env(), "Expected number for " + where + "." + key);
  return v.As<Napi::Number>().DoubleValue();
}

bool read_bool(const Napi::Object& obj, const char* key, const std::string& where) {
  auto v = get(obj, key, where);
  if (!v.IsBoolean()) throw Napi::TypeError::New(obj.Env(), "Expected boolean for " + where + "." + key);
  return v.As<Napi::Boolean>().Value();
}

std::string read_string(const Napi::Object& obj, const char* key, const std::string& where) {
  auto v = get(obj, key, where);
  if (!v.IsString()) throw Napi::TypeError::New(obj.Env(), "Expected string for " + where + "." + key);
  return v.As<Napi::String>().Utf8Value();
}

Napi::Object read_object(const Napi::Object& obj, const char* key, const std::string& where) {
  auto v = get(obj, key, where);
  if (!v.IsObject()) throw Napi::TypeError::New(obj.Env(), "Expected object for " + where + "." + key);
  return v.As<Napi::Object>();
}

blip2::Blip2Config read_config(const Napi::Value& value) {
  if (!value.IsObject()) throw Napi::TypeError::New(value.Env(), "Expected object for config");
  auto root = value.As<Napi::Object>();
  blip2::Blip2Config c{};
  c.num_query_tokens = read_int(root, "num_query_tokens", "config");

  auto v = read_object(root, "vision_config", "config");
  const std::string vw = "config.vision_config";
  c.vision.hidden_size = read_int(v, "hidden_size", vw);
  c.vision.intermediate_size = read_int(v, "intermediate_size", vw);
  c.vision.num_hidden_layers = read_int(v, "num_hidden_layers", vw);
  c.vision.num_attention_heads = read_int(v, "num_attention_heads", vw);
  c.vision.num_channels = read_int(v, "num_channels", vw);
  c.vision.image_size = read_int(v, "image_size", vw);
  c.vision.patch_size = read_int(v, "patch_size", vw);
  c.vision.layer_norm_eps = read_double(v, "layer_norm_eps", vw);
  c.vision.qkv_bias = read_bool(v, "qkv_bias", vw);
  c.vision.hidden_act = read_string(v, "hidden_act", vw);

  auto q = read_object(root, "qformer_config", "config");
  const std::string qw = "config.qformer_config";
  c.qformer.hidden_size = read_int(q, "hidden_size", qw);
  c.qformer.num_hidden_layers = read_int(q, "num_hidden_layers", qw);
  c.qformer.num_attention_heads = read_int(q, "num_attention_heads", qw);
  c.qformer.intermediate_size = read_int(q, "intermediate_size", qw);
  c.qformer.layer_norm_eps = read_double(q, "layer_norm_eps", qw);
  c.qformer.cross_attention_frequency = read_int(q, "cross_attention_frequency", qw);
  c.qformer.encoder_hidden_size = read_int(q, "encoder_hidden_size", qw);
  c.qformer.hidden_act = read_string(q, "hidden_act", qw);

  auto t = read_object(root, "text_config", "config");
  const std::string tw = "config.text_config";
  const std::string model_type = read_string(t, "model_type", tw);
  if (model_type == "t5") {
    blip2::T5Config t5;
    t5.vocab_size = read_int(t, "vocab_size", tw);
    t5.d_model = read_int(t, "d_model", tw);
    t5.d_kv = read_int(t, "d_kv", tw);
    t5.d_ff = read_int(t, "d_ff", tw);
    t5.num_layers = read_int(t, "num_layers", tw);
    t5.num_decoder_layers = read_int(t, "num_decoder_layers", tw);
    t5.num_heads = read_int(t, "num_heads", tw);
    t5.relative_attention_num_buckets = read_int(t, "relative_attention_num_buckets", tw);
    t5.relative_attention_max_distance = read_int(t, "relative_attention_max_distance", tw);
    t5.layer_norm_epsilon = read_double(t, "layer_norm_epsilon", tw);
    t5.is_gated_act = read_bool(t, "is_gated_act", tw);
    t5.dense_act_fn = read_string(t, "dense_act_fn", tw);
    t5.tie_word_embeddings = read_bool(t, "tie_word_embeddings", tw);
    t5.decoder_start_token_id = read_int(t, "decoder_start_token_id", tw);
    t5.pad_token_id = read_int(t, "pad_token_id", tw);
    t5.eos_token_id = read_int(t, "eos_token_id", tw);
    c.text = t5;
  } else if (model_type == "opt") {
    blip2::OptConfig opt;
    opt.vocab_size = read_int(t, "vocab_size", tw);
    opt.hidden_size = read_int(t, "hidden_size", tw);
    opt.num_hidden_layers = read_int(t, "num_hidden_layers", tw);
    opt.ffn_dim = read_int(t, "ffn_dim", tw);
    opt.num_attention_heads = read_int(t, "num_attention_heads", tw);
    opt.max_position_embeddings = read_int(t, "max_position_embeddings", tw);
    opt.do_layer_norm_before = read_bool(t, "do_layer_norm_before", tw);
    opt.word_embed_proj_dim = read_int(t, "word_embed_proj_dim", tw);
    opt.activation_function = read_string(t, "activation_function", tw);
    opt.enable_bias = read_bool(t, "enable_bias", tw);
    opt.layer_norm_elementwise_affine = read_bool(t, "layer_norm_elementwise_affine", tw);
    opt.remove_final_layer_norm = read_bool(t, "remove_final_layer_norm", tw);
    opt.tie_word_embeddings = read_bool(t, "tie_word_embeddings", tw);
    opt.pad_token_id = read_int(t, "pad_token_id", tw);
    opt.bos_token_id = read_int(t, "bos_token_id", tw);
    opt.eos_token_id = read_int(t, "eos_token_id", tw);
    c.text = opt;
  } else {
    throw Napi::TypeError::New(t.Env(), tw + ".model_type must be \"t5\" or \"opt\" but is \"" + model_type + "\"");
  }
  return c;
}

torch::Tensor read_tensor(const Napi::Value& value, const std::string& where) {
  auto env = value.Env();
  if (!value.IsObject()) throw Napi::TypeError::New(env, "Expected {data, shape} for " + where);
  auto obj = value.As<Napi::Object>();
  auto data = obj.Get("data");
  auto shape_v = obj.Get("shape");
  if (!data.IsTypedArray() || !shape_v.IsArray())
    throw Napi::TypeError::New(env, "Expected {data: TypedArray, shape: number[]} for " + where);
  std::vector<int64_t> shape;
  auto shape_a = shape_v.As<Napi::Array>();
  int64_t numel = 1;
  for (uint32_t i = 0; i < shape_a.Length(); ++i) {
    Napi::Value d = shape_a.Get(i);
    if (!d.IsNumber() || d.As<Napi::Number>().DoubleValue() < 0)
      throw Napi::TypeError::New(env, "Expected non-negative integers in " + where + ".shape");
    shape.push_back(d.As<Napi::Number>().Int64Value());
    numel *= shape.back();
  }
  auto arr = data.As<Napi::TypedArray>();
  torch::ScalarType type;
  switch (arr.TypedArrayType()) {
    case napi_float32_array: type = torch::kFloat32; break;
    case napi_float64_array: type = torch::kFloat64; break;
    case napi_int32_array: type = torch::kInt32; break;
    case napi_bigint64_array: type = torch::kInt64; break;
    case napi_uint8_array: type = torch::kUInt8; break;
    default: throw Napi::TypeError::New(env, "Unsupported typed array type for " + where + ".data");
  }
  if (static_cast<int64_t>(arr.ElementLength()) != numel) {
    throw Napi::RangeError::New(env, where + ".data has " + std::to_string(arr.ElementLength()) +
                                         " elements but shape needs " + std::to_string(numel));
  }
  auto buffer = arr.ArrayBuffer();
  auto* ptr = static_cast<uint8_t*>(buffer.Data()) + arr.ByteOffset();
  auto out = torch::empty(shape, torch::TensorOptions().dtype(type));
  if (numel > 0) std::memcpy(out.data_ptr(), ptr, arr.ByteLength());
  return out;
}

Napi::Object tensor_to_js(Napi::Env env, const torch::Tensor& tensor) {
  auto obj = Napi::Object::New(env);
  auto shape = Napi::Array::New(env, tensor.dim());
  for (int64_t i = 0; i < tensor.dim(); ++i)
    shape.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(tensor.size(i))));
  obj.Set("shape", shape);
  const size_t n = static_cast<size_t>(tensor.numel());
  if (tensor.is_floating_point()) {
    auto t = tensor.to(torch::kCPU, torch::kFloat32).contiguous();
    auto arr = Napi::Float32Array::New(env, n);
    if (n) std::memcpy(arr.Data(), t.data_ptr<float>(), n * sizeof(float));
    obj.Set("data", arr);
    obj.Set("dtype", "float32");
  } else {
    auto t = tensor.to(torch::kCPU, torch::kInt64).contiguous();
    auto buffer = Napi::ArrayBuffer::New(env, n * sizeof(int64_t));
    if (n) std::memcpy(buffer.Data(), t.data_ptr<int64_t>(), n * sizeof(int64_t));
    obj.Set("data", Napi::TypedArrayOf<int64_t>::New(env, n, buffer, 0, napi_bigint64_array));
    obj.Set("dtype", "int64");
  }
  return obj;
}

blip2::ForwardInputs read_forward_inputs(const Napi::Value& value) {
  if (!value.IsObject()) throw Napi::TypeError::New(value.Env(), "Expected object for inputs");
  auto in = value.As<Napi::Object>();
  auto optional = [&](const char* key) {
    return in.Has(key) && !in.Get(key).IsUndefined() ? read_tensor(in.Get(key), std::string("inputs.") + key)
                                                     : torch::Tensor();
  };
  blip2::ForwardInputs inputs;
  inputs.pixel_values = read_tensor(in.Get("pixelValues"), "inputs.pixelValues");
  inputs.input_ids = read_tensor(in.Get("inputIds"), "inputs.inputIds");
  inputs.attention_mask = optional("attentionMask");
  inputs.labels = optional("labels");
  inputs.decoder_input_ids = optional("decoderInputIds");
  if (in.Has("imageRepeat") && !in.Get("imageRepeat").IsUndefined()) {
    inputs.image_repeat = read_int(in, "imageRepeat", "inputs");
    if (inputs.image_repeat < 1) throw std::runtime_error("inputs.imageRepeat must be >= 1");
  }
  const int64_t rows = inputs.pixel_values.size(0) * inputs.image_repeat;
  for (const auto* t : {&inputs.labels, &inputs.decoder_input_ids}) {
    if (t->defined() && t->size(0) != rows) {
      throw std::runtime_error("inputs: " + std::to_string(rows) +
                               " label / decoder rows expected (images x imageRepeat), got " +
                               std::to_string(t->size(0)));
    }
  }
  return inputs;
}

double read_double_or(const Napi::Object& obj, const char* key, double fallback, const std::string& where) {
  if (!obj.Has(key) || obj.Get(key).IsUndefined()) return fallback;
  return read_double(obj, key, where);
}

const std::vector<std::pair<std::string, torch::ScalarType>>& parameter_dtypes() {
  static const std::vector<std::pair<std::string, torch::ScalarType>> dtypes = {
      {"float32", torch::kFloat32}, {"bfloat16", torch::kBFloat16}, {"float16", torch::kFloat16}};
  return dtypes;
}

torch::ScalarType parse_dtype(const std::string& name) {
  for (const auto& [known, type] : parameter_dtypes())
    if (name == known) return type;
  throw std::runtime_error("unknown dtype \"" + name + "\"");
}

std::string dtype_name(torch::ScalarType type) {
  for (const auto& [name, known] : parameter_dtypes())
    if (type == known) return name;
  return c10::toString(type);
}

torch::Device parse_device(const std::string& name) {
  torch::Device device(name);  // "cpu", "cuda", "cuda:1"; throws c10::Error for anything else
  if (device.is_cuda() && !torch::cuda::is_available()) {
    throw std::runtime_error(
        "device \"" + name +
        "\" requested but this libtorch has no CUDA or no GPU is visible; rebuild against a CUDA libtorch "
        "(LIBTORCH=/path/to/libtorch npm rebuild blip2-progressive) or use device 'cpu'");
  }
  return device;
}

}  // namespace binding

// Reading plain JS values into C++ structs (on the main thread, before any worker runs) and turning
// tensors into JS typed arrays (in OnOK). Every reader names the option it failed on.
#pragma once

#include <napi.h>
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "blip2.h"
#include "config.h"

namespace binding {

int64_t read_int(const Napi::Object& obj, const char* key, const std::string& where);
double read_double(const Napi::Object& obj, const char* key, const std::string& where);
bool read_bool(const Napi::Object& obj, const char* key, const std::string& where);
std::string read_string(const Napi::Object& obj, const char* key, const std::string& where);
Napi::Object read_object(const Napi::Object& obj, const char* key, const std::string& where);

// The fully resolved config that lib/model/config.ts produces (Hugging Face's snake_case keys).
blip2::Blip2Config read_config(const Napi::Value& value);

// {data: Float32Array | Int32Array | BigInt64Array | Uint8Array, shape: number[]} -> an owned CPU tensor.
torch::Tensor read_tensor(const Napi::Value& value, const std::string& where);

// A CPU tensor -> {data: Float32Array | BigInt64Array, shape: number[], dtype}. Floating tensors become
// float32, integer tensors int64. The data are copied.
Napi::Object tensor_to_js(Napi::Env env, const torch::Tensor& tensor);

// {pixelValues, inputIds, attentionMask?, labels?, decoderInputIds?} -> ForwardInputs (copies the data).
blip2::ForwardInputs read_forward_inputs(const Napi::Value& value);

// A numeric option with a default when absent/undefined.
double read_double_or(const Napi::Object& obj, const char* key, double fallback, const std::string& where);

// The parameter dtypes a model loads in, by name: float32, bfloat16, float16.
const std::vector<std::pair<std::string, torch::ScalarType>>& parameter_dtypes();
torch::ScalarType parse_dtype(const std::string& name);
std::string dtype_name(torch::ScalarType type);  // "float32" | "bfloat16" | "float16" | ...
torch::Device parse_device(const std::string& name);

}  // namespace binding

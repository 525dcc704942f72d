// safetensors reading (mmap, single file or sharded via model.safetensors.index.json) and writing
// (atomic: temporary file, fsync, rename). Format: 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}, then the raw data.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace blip2 {

struct TensorInfo {
  std::string dtype;  // safetensors dtype string: F32, F16, BF16, ...
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte range inside the data section
};

// One safetensors file, memory-mapped read-only. The header is validated on open: every tensor's dtype is
// known, its byte range lies inside the file and matches its shape.
class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // Copies one tensor out of the mapping, converted to `dtype` on `device`, then tells the kernel the
  // mapped pages are no longer needed, so loading never holds a second copy of the weights.
  torch::Tensor read(const std::string& name, torch::ScalarType dtype, const torch::Device& device) const;

 private:
  std::string path_;
  int fd_ = -1;
  uint8_t* map_ = nullptr;
  size_t size_ = 0;
  size_t data_start_ = 0;
  std::map<std::string, TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

// A set of safetensors files read as one: a model directory's weights (`model.safetensors`, or the shards listed by
// `model.safetensors.index.json`), or a single file (an adapter, an optimizer state). Tensor names are unique
// across shards.
class WeightFiles {
 public:
  // `dir` holds model.safetensors or model.safetensors.index.json (the index wins when both exist).
  static WeightFiles open_dir(const std::string& dir);
  static WeightFiles open_file(const std::string& path);

  std::vector<std::string> names() const;
  bool contains(const std::string& name) const { return where_.count(name) != 0; }
  const TensorInfo& info(const std::string& name) const;
  torch::Tensor read(const std::string& name, torch::ScalarType dtype, const torch::Device& device) const;
  const std::string& file_of(const std::string& name) const;

 private:
  std::vector<std::shared_ptr<SafetensorsFile>> files_;
  std::map<std::string, size_t> where_;  // tensor name -> index into files_
  void add_file(std::shared_ptr<SafetensorsFile> file);
};

// A shape as error messages write it: "[1, 6, 32]".
std::string shape_string(const std::vector<int64_t>& shape);
// Maps a safetensors dtype string to a torch scalar type; throws for unknown strings.
torch::ScalarType scalar_type_of(const std::string& dtype);
// The safetensors dtype string of a torch scalar type.
std::string dtype_string(torch::ScalarType type);

// Writes tensors (copied to CPU, contiguous) to `path` atomically: a temporary file in the same directory,
// fsync, rename. Keys are written sorted by name.
void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace blip2

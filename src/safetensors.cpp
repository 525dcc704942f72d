#include "safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "json.h"

namespace blip2 {

namespace {

size_t element_size(const std::string& dtype) {
  static const std::map<std::string, size_t> sizes = {{"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8},
                                                      {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U8", 1},   {"BOOL", 1}};
  auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error("Invalid safetensors file " + path + ": " + what);
}

bool file_exists(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("Cannot read " + path + ": " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

torch::ScalarType scalar_type_of(const std::string& dtype) {
  static const std::map<std::string, torch::ScalarType> types = {
      {"F64", torch::kFloat64}, {"F32", torch::kFloat32}, {"F16", torch::kFloat16}, {"BF16", torch::kBFloat16},
      {"I64", torch::kInt64},   {"I32", torch::kInt32},   {"I16", torch::kInt16},   {"I8", torch::kInt8},
      {"U8", torch::kUInt8},    {"BOOL", torch::kBool}};
  auto it = types.find(dtype);
  if (it == types.end()) throw std::runtime_error("unknown safetensors dtype \"" + dtype + "\"");
  return it->second;
}

std::string dtype_string(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat64: return "F64";
    case torch::kFloat32: return "F32";
    case torch::kFloat16: return "F16";
    case torch::kBFloat16: return "BF16";
    case torch::kInt64: return "I64";
    case torch::kInt32: return "I32";
    case torch::kInt16: return "I16";
    case torch::kInt8: return "I8";
    case torch::kUInt8: return "U8";
    case torch::kBool: return "BOOL";
    default: throw std::runtime_error(std::string("cannot store dtype ") + c10::toString(type) + " in safetensors");
  }
}

// The format forbids tensors that share bytes: two names would alias one buffer.
static void check_disjoint(const std::string& path, const std::map<std::string, TensorInfo>& tensors) {
  std::vector<std::pair<const std::string*, const TensorInfo*>> ranges;
  for (const auto& [name, info] : tensors)
    if (info.end > info.begin) ranges.emplace_back(&name, &info);
  std::sort(ranges.begin(), ranges.end(),
            [](const auto& a, const auto& b) { return a.second->begin < b.second->begin; });
  for (size_t i = 1; i < ranges.size(); ++i) {
    const auto& [a_name, a] = ranges[i - 1];
    const auto& [b_name, b] = ranges[i];
    if (b->begin < a->end) {
      fail(path, "tensors \"" + *a_name + "\" [" + std::to_string(a->begin) + ", " + std::to_string(a->end) +
                     "] and \"" + *b_name + "\" [" + std::to_string(b->begin) + ", " + std::to_string(b->end) +
                     "] overlap");
    }
  }
}

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw std::runtime_error("Cannot open " + path + ": " + std::strerror(errno));
  struct stat st{};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error("Cannot open " + path + ": not a regular file");
  }
  size_ = static_cast<size_t>(st.st_size);
  try {
    if (size_ < 8) fail(path, "file is " + std::to_string(size_) + " bytes, shorter than the 8-byte header length");
    map_ = static_cast<uint8_t*>(::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0));
    if (map_ == MAP_FAILED) {
      map_ = nullptr;
      fail(path, std::string("mmap failed: ") + std::strerror(errno));
    }
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | map_[i];
    if (header_len > size_ - 8) {
      fail(path, "header length " + std::to_string(header_len) + " runs past the end of the file (" +
                     std::to_string(size_) + " bytes); the file is truncated or not safetensors");
    }
    data_start_ = 8 + header_len;
    const uint64_t data_size = size_ - data_start_;
    json::Value header;
    try {
      header = json::parse(std::string(reinterpret_cast<const char*>(map_ + 8), header_len));
    } catch (const std::exception& e) {
      fail(path, std::string("header is not JSON (") + e.what() + ")");
    }
    if (header.kind != json::Value::Kind::Object) fail(path, "header is not a JSON object");
    for (const auto& [name, entry] : *header.object) {
      if (name == "__metadata__") {
        if (entry.kind != json::Value::Kind::Object) fail(path, "__metadata__ is not an object");
        for (const auto& [k, v] : *entry.object) {
          if (v.kind != json::Value::Kind::String) fail(path, "__metadata__ value of \"" + k + "\" is not a string");
          metadata_[k] = v.string;
        }
        continue;
      }
      const json::Value* dtype = entry.find("dtype");
      const json::Value* shape = entry.find("shape");
      const json::Value* offsets = entry.find("data_offsets");
      if (!dtype || dtype->kind != json::Value::Kind::String || !shape || shape->kind != json::Value::Kind::Array ||
          !offsets || offsets->kind != json::Value::Kind::Array || offsets->array->size() != 2) {
        fail(path, "tensor \"" + name + "\" needs dtype (string), shape (array) and data_offsets ([begin, end])");
      }
      TensorInfo info;
      info.dtype = dtype->string;
      size_t esize = element_size(info.dtype);
      if (esize == 0) fail(path, "tensor \"" + name + "\" has unknown dtype \"" + info.dtype + "\"");
      uint64_t numel = 1;
      for (const auto& d : *shape->array) {
        if (d.kind != json::Value::Kind::Number || !d.is_integer || d.integer < 0)
          fail(path, "tensor \"" + name + "\" has a shape entry that is not a non-negative integer");
        info.shape.push_back(d.integer);
        const auto dim = static_cast<uint64_t>(d.integer);
        if (dim != 0 && numel > UINT64_MAX / esize / dim)
          fail(path, "tensor \"" + name + "\" has a shape whose byte size overflows 64 bits");
        numel *= dim;
      }
      const auto& b = (*offsets->array)[0];
      const auto& e = (*offsets->array)[1];
      if (b.kind != json::Value::Kind::Number || !b.is_integer || e.kind != json::Value::Kind::Number ||
          !e.is_integer || b.integer < 0 || e.integer < b.integer) {
        fail(path, "tensor \"" + name + "\" has invalid data_offsets");
      }
      info.begin = static_cast<uint64_t>(b.integer);
      info.end = static_cast<uint64_t>(e.integer);
      if (info.end > data_size) {
        fail(path, "tensor \"" + name + "\" data_offsets [" + std::to_string(info.begin) + ", " +
                       std::to_string(info.end) + "] run past the end of the data (" + std::to_string(data_size) +
                       " bytes); the file is truncated");
      }
      if (info.end - info.begin != numel * esize) {
        fail(path, "tensor \"" + name + "\" has " + std::to_string(info.end - info.begin) + " bytes but shape " +
                       shape_string(info.shape) + " of " + info.dtype + " needs " + std::to_string(numel * esize));
      }
      tensors_[name] = std::move(info);
    }
    check_disjoint(path, tensors_);
  } catch (...) {
    if (map_) ::munmap(map_, size_);
    ::close(fd_);
    map_ = nullptr;
    fd_ = -1;
    throw;
  }
}

SafetensorsFile::~SafetensorsFile() {
  if (map_) ::munmap(map_, size_);
  if (fd_ >= 0) ::close(fd_);
}

torch::Tensor SafetensorsFile::read(const std::string& name, torch::ScalarType dtype,
                                    const torch::Device& device) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) throw std::runtime_error("tensor \"" + name + "\" is not in " + path_);
  const TensorInfo& info = it->second;
  uint8_t* ptr = map_ + data_start_ + info.begin;
  auto source = torch::from_blob(ptr, info.shape, torch::TensorOptions().dtype(scalar_type_of(info.dtype)));
  torch::Tensor out = torch::empty(info.shape, torch::TensorOptions().dtype(dtype).device(device));
  out.copy_(source);
  // Drop the pages we just copied from, so the mapping and the copy are never both resident.
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  uintptr_t lo = reinterpret_cast<uintptr_t>(ptr) & ~(page - 1);
  uintptr_t hi = reinterpret_cast<uintptr_t>(ptr) + (info.end - info.begin);
  if (hi > lo) ::madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
  return out;
}

void WeightFiles::add_file(std::shared_ptr<SafetensorsFile> file) {
  size_t index = files_.size();
  for (const auto& [name, info] : file->tensors()) {
    auto [it, inserted] = where_.emplace(name, index);
    if (!inserted) {
      throw std::runtime_error("tensor \"" + name + "\" appears in both " + files_[it->second]->path() + " and " +
                               file->path());
    }
  }
  files_.push_back(std::move(file));
}

WeightFiles WeightFiles::open_file(const std::string& path) {
  WeightFiles files;
  files.add_file(std::make_shared<SafetensorsFile>(path));
  return files;
}

WeightFiles WeightFiles::open_dir(const std::string& dir) {
  const std::string index_path = dir + "/model.safetensors.index.json";
  const std::string single_path = dir + "/model.safetensors";
  WeightFiles files;
  if (file_exists(index_path)) {
    json::Value index;
    try {
      index = json::parse(read_text(index_path));
    } catch (const std::exception& e) {
      throw std::runtime_error("Invalid checkpoint index " + index_path + ": " + e.what());
    }
    const json::Value* map = index.find("weight_map");
    if (!map || map->kind != json::Value::Kind::Object)
      throw std::runtime_error("Invalid checkpoint index " + index_path + ": no \"weight_map\" object");
    std::vector<std::string> shards;
    for (const auto& [name, file] : *map->object) {
      if (file.kind != json::Value::Kind::String || file.string.find('/') != std::string::npos)
        throw std::runtime_error("Invalid checkpoint index " + index_path + ": shard of \"" + name +
                                 "\" is not a file name");
      if (std::find(shards.begin(), shards.end(), file.string) == shards.end()) shards.push_back(file.string);
    }
    for (const auto& shard : shards) files.add_file(std::make_shared<SafetensorsFile>(dir + "/" + shard));
    for (const auto& [name, file] : *map->object) {
      if (!files.contains(name) || files.file_of(name) != dir + "/" + file.string)
        throw std::runtime_error("Invalid checkpoint index " + index_path + ": \"" + name + "\" is not in " +
                                 file.string);
    }
    return files;
  }
  if (file_exists(single_path)) {
    files.add_file(std::make_shared<SafetensorsFile>(single_path));
    return files;
  }
  std::string hint;
  if (file_exists(dir + "/pytorch_model.bin") || file_exists(dir + "/pytorch_model.bin.index.json"))
    hint = " (only pickled pytorch_model.bin weights were found; convert them to safetensors first)";
  throw std::runtime_error("No model.safetensors or model.safetensors.index.json in " + dir + hint);
}

std::vector<std::string> WeightFiles::names() const {
  std::vector<std::string> out;
  out.reserve(where_.size());
  for (const auto& [name, index] : where_) out.push_back(name);
  return out;
}

const TensorInfo& WeightFiles::info(const std::string& name) const {
  return files_.at(where_.at(name))->tensors().at(name);
}

const std::string& WeightFiles::file_of(const std::string& name) const { return files_.at(where_.at(name))->path(); }

torch::Tensor WeightFiles::read(const std::string& name, torch::ScalarType dtype, const torch::Device& device) const {
  auto it = where_.find(name);
  if (it == where_.end()) throw std::runtime_error("tensor \"" + name + "\" is not in the checkpoint");
  return files_[it->second]->read(name, dtype, device);
}

void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  std::vector<std::pair<std::string, torch::Tensor>> sorted;
  sorted.reserve(tensors.size());
  for (const auto& [name, t] : tensors) sorted.emplace_back(name, t.detach().to(torch::kCPU).contiguous());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });

  std::string header = "{";
  bool first = true;
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    bool mfirst = true;
    for (const auto& [k, v] : metadata) {
      header += (mfirst ? "" : ",") + json::quote(k) + ":" + json::quote(v);
      mfirst = false;
    }
    header += "}";
    first = false;
  }
  uint64_t offset = 0;
  for (const auto& [name, t] : sorted) {
    uint64_t bytes = static_cast<uint64_t>(t.numel()) * t.element_size();
    header +=
        (first ? "" : ",") + json::quote(name) + ":{\"dtype\":\"" + dtype_string(t.scalar_type()) + "\",\"shape\":[";
    for (int64_t i = 0; i < t.dim(); ++i) header += (i ? "," : "") + std::to_string(t.size(i));
    header += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + bytes) + "]}";
    offset += bytes;
    first = false;
  }
  header += "}";
  while (header.size() % 8 != 0) header += ' ';

  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("Cannot write " + tmp + ": " + std::strerror(errno));
  auto write_all = [&](const void* data, size_t n) {
    const uint8_t* p = static_cast<const uint8_t*>(data);
    while (n > 0) {
      ssize_t w = ::write(fd, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        throw std::runtime_error("Cannot write " + tmp + ": " + std::strerror(err));
      }
      p += w;
      n -= static_cast<size_t>(w);
    }
  };
  uint8_t len[8];
  uint64_t hl = header.size();
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(hl >> (8 * i));
  write_all(len, 8);
  write_all(header.data(), header.size());
  for (const auto& [name, t] : sorted) write_all(t.data_ptr(), static_cast<size_t>(t.numel()) * t.element_size());
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    throw std::runtime_error("Cannot write " + tmp + ": " + std::strerror(errno));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw std::runtime_error("Cannot rename " + tmp + " to " + path + ": " + std::strerror(err));
  }
  std::string dir = path.substr(0, path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/'));
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace blip2

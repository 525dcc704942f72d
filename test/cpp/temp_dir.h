// A fresh directory under the system's temporary directory, removed with everything in it when it goes out of
// scope.
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace blip2_test {

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("blip2-cpp-tests-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Writes a safetensors file by hand: the 8-byte little-endian header length, `header` as given, then `data`.
inline std::string write_raw_safetensors(const std::string& path, const std::string& header, const std::string& data,
                                         uint64_t header_length_field) {
  std::ofstream out(path, std::ios::binary);
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((header_length_field >> (8 * i)) & 0xFF));
  out << header << data;
  return path;
}

inline std::string write_raw_safetensors(const std::string& path, const std::string& header, const std::string& data) {
  return write_raw_safetensors(path, header, data, header.size());
}

}  // namespace blip2_test

// A small strict JSON reader and writer for safetensors headers and sharded-weights index files
// (model.safetensors.index.json).
// Objects keep their key order (safetensors writers and readers care only about names, but error
// messages read better in file order).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace blip2::json {

struct Value;
using Object = std::vector<std::pair<std::string, Value>>;
using Array = std::vector<Value>;

struct Value {
  enum class Kind { Null, Bool, Number, String, Array, Object };
  Kind kind = Kind::Null;
  bool boolean = false;
  double number = 0;
  bool is_integer = false;  // the literal had no fraction or exponent and fits in int64
  int64_t integer = 0;
  std::string string;
  std::shared_ptr<Array> array;
  std::shared_ptr<Object> object;

  const Value* find(const std::string& key) const;  // null if not an object or key absent
};

// Parses a complete JSON document; throws std::runtime_error naming the byte offset of the problem.
Value parse(const std::string& text);

// Writes a string literal with JSON escapes.
std::string quote(const std::string& s);

}  // namespace blip2::json

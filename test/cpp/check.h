// A minimal test harness: TEST_CASE(name) registers a case; EXPECT* record a failure with file and line and let
// the case go on; the runner (main.cpp) runs one case by name or all of them and exits non-zero on any failure.
// (EXPECT, not CHECK: glog, which libtorch's headers include, defines CHECK macros.)
#pragma once

#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace blip2_test {

struct Case {
  std::string name;
  std::function<void()> run;
};

inline std::vector<Case>& cases() {
  static std::vector<Case> all;
  return all;
}
inline int& failures() {
  static int count = 0;
  return count;
}

struct Register {
  Register(const char* name, std::function<void()> run) { cases().push_back({name, std::move(run)}); }
};

inline void fail(const char* file, int line, const std::string& what) {
  ++failures();
  std::cout << "  FAILED " << file << ":" << line << ": " << what << std::endl;
}

// What a case checks, printed before its checks run.
inline void says(const std::string& text) { std::cout << "  checks: " << text << std::endl; }

template <typename T>
void show(std::ostream& out, const T& value) {
  out << value;
}
template <typename T>
void show(std::ostream& out, const std::vector<T>& values) {
  out << "[";
  for (size_t i = 0; i < values.size(); ++i) {
    out << (i ? ", " : "");
    show(out, values[i]);
  }
  out << "]";
}

template <typename A, typename B>
std::string describe_pair(const char* a_text, const char* b_text, const A& a, const B& b) {
  std::ostringstream out;
  out << a_text << " == " << b_text << " (got ";
  show(out, a);
  out << ", expected ";
  show(out, b);
  out << ")";
  return out.str();
}

}  // namespace blip2_test

#define TEST_CASE(name)                                                       \
  static void test_case_##name();                                             \
  static const blip2_test::Register register_##name(#name, test_case_##name); \
  static void test_case_##name()

#define EXPECT(condition)                                               \
  do {                                                                  \
    if (!(condition)) blip2_test::fail(__FILE__, __LINE__, #condition); \
  } while (0)

#define EXPECT_EQ(actual, expected)                                                                    \
  do {                                                                                                 \
    const auto& actual_value_ = (actual);                                                              \
    const auto& expected_value_ = (expected);                                                          \
    if (!(actual_value_ == expected_value_))                                                           \
      blip2_test::fail(__FILE__, __LINE__,                                                             \
                       blip2_test::describe_pair(#actual, #expected, actual_value_, expected_value_)); \
  } while (0)

// `statement` must throw a std::exception whose what() contains every one of the strings that follow.
#define EXPECT_THROWS_WITH(statement, ...)                                                                        \
  do {                                                                                                            \
    bool threw_ = false;                                                                                          \
    try {                                                                                                         \
      statement;                                                                                                  \
    } catch (const std::exception& error_) {                                                                      \
      threw_ = true;                                                                                              \
      const std::string message_ = error_.what();                                                                 \
      for (const std::string part_ : {__VA_ARGS__})                                                               \
        if (message_.find(part_) == std::string::npos)                                                            \
          blip2_test::fail(__FILE__, __LINE__, "message of " #statement " lacks \"" + part_ + "\": " + message_); \
    }                                                                                                             \
    if (!threw_) blip2_test::fail(__FILE__, __LINE__, #statement " did not throw");                               \
  } while (0)

// Runs the cases registered with TEST_CASE: `blip2_cpp_tests` runs all, `blip2_cpp_tests NAME...` the named ones,
// `blip2_cpp_tests --list` prints their names. Exits 1 when a check failed or a case threw.
#include <exception>
#include <iostream>
#include <set>
#include <string>

#include "check.h"

int main(int argc, char** argv) {
  std::set<std::string> wanted(argv + 1, argv + argc);
  if (wanted.count("--list")) {
    for (const auto& c : blip2_test::cases()) std::cout << c.name << "\n";
    return 0;
  }
  int ran = 0;
  for (const auto& c : blip2_test::cases()) {
    if (!wanted.empty() && !wanted.count(c.name)) continue;
    ++ran;
    std::cout << c.name << std::endl;
    const int before = blip2_test::failures();
    try {
      c.run();
    } catch (const std::exception& error) {
      blip2_test::fail(__FILE__, __LINE__, std::string("uncaught exception: ") + error.what());
    }
    std::cout << (blip2_test::failures() == before ? "  ok" : "  FAILED") << std::endl;
  }
  if (ran == 0 || (!wanted.empty() && ran != static_cast<int>(wanted.size()))) {
    std::cout << "no test case named " << (wanted.empty() ? std::string("(none registered)") : *wanted.begin())
              << " among " << blip2_test::cases().size() << std::endl;
    return 1;
  }
  return blip2_test::failures() == 0 ? 0 : 1;
}

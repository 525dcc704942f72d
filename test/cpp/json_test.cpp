// src/json: the strict reader on hand-written documents, and string quoting.
#include <string>

#include "check.h"
#include "json.h"

using blip2::json::Value;

TEST_CASE(json_parse_values) {
  blip2_test::says("objects keep file order; integers, fractions, exponents, booleans, null; escapes and UTF-16 pairs");
  const Value v = blip2::json::parse(
      " {\"b\": [1, -2.5e1, true, false, null], \"a\": \"x\\u00e9\\n\\ud83d\\ude00\\/\", \"n\": 9007199254740993} ");
  EXPECT(v.kind == Value::Kind::Object);
  EXPECT_EQ(v.object->size(), size_t{3});
  EXPECT_EQ((*v.object)[0].first, std::string("b"));
  EXPECT_EQ((*v.object)[1].first, std::string("a"));
  EXPECT_EQ((*v.object)[2].first, std::string("n"));

  const Value* b = v.find("b");
  EXPECT(b != nullptr && b->kind == Value::Kind::Array);
  if (b && b->array) {
    const auto& items = *b->array;
    EXPECT_EQ(items.size(), size_t{5});
    EXPECT(items[0].kind == Value::Kind::Number && items[0].is_integer);
    EXPECT_EQ(items[0].integer, int64_t{1});
    EXPECT(items[1].kind == Value::Kind::Number && !items[1].is_integer);
    EXPECT_EQ(items[1].number, -25.0);
    EXPECT(items[2].kind == Value::Kind::Bool && items[2].boolean);
    EXPECT(items[3].kind == Value::Kind::Bool && !items[3].boolean);
    EXPECT(items[4].kind == Value::Kind::Null);
  }
  // é is U+00E9 (UTF-8 C3 A9); U+1F600 is the pair D83D DE00 (UTF-8 F0 9F 98 80).
  EXPECT_EQ(v.find("a")->string, std::string("x\xC3\xA9\n\xF0\x9F\x98\x80/"));
  // 2^53 + 1 is not a double; an integer literal keeps it exactly.
  EXPECT(v.find("n")->is_integer);
  EXPECT_EQ(v.find("n")->integer, int64_t{9007199254740993});
  EXPECT(v.find("missing") == nullptr);
  EXPECT(b == nullptr || b->find("b") == nullptr);  // find() on a non-object
}

TEST_CASE(json_parse_numbers) {
  blip2_test::says("every number form of RFC 8259's grammar: zero, negative zero, fractions and exponents");
  const Value v = blip2::json::parse("[0, -0, 0.5, -0.25, 1E+2, 2e-1, 0e0, 10]");
  EXPECT(v.kind == Value::Kind::Array && v.array && v.array->size() == 8);
  if (v.array && v.array->size() == 8) {
    const auto& n = *v.array;
    EXPECT(n[0].is_integer && n[0].integer == 0);
    EXPECT(n[1].is_integer && n[1].integer == 0);
    EXPECT_EQ(n[2].number, 0.5);
    EXPECT_EQ(n[3].number, -0.25);
    EXPECT_EQ(n[4].number, 100.0);
    EXPECT_EQ(n[5].number, 0.2);
    EXPECT_EQ(n[6].number, 0.0);
    EXPECT(n[7].is_integer && n[7].integer == 10);
  }
}

TEST_CASE(json_parse_rejects) {
  blip2_test::says("malformed documents throw, naming the byte offset and the problem");
  EXPECT_THROWS_WITH(blip2::json::parse("[1, 2,]"), "invalid JSON at byte 6", "expected a value");
  EXPECT_THROWS_WITH(blip2::json::parse("{\"a\": 1} x"), "invalid JSON at byte 9", "trailing");
  EXPECT_THROWS_WITH(blip2::json::parse("{\"a\": \"unterminated"), "unterminated string");
  EXPECT_THROWS_WITH(blip2::json::parse("{a: 1}"), "invalid JSON at byte 1", "expected a string key");
  EXPECT_THROWS_WITH(blip2::json::parse("[\"tab\there\"]"), "control character in string");
  EXPECT_THROWS_WITH(blip2::json::parse("\"\\x\""), "bad escape");
  EXPECT_THROWS_WITH(blip2::json::parse("\"\\u12G4\""), "bad \\u escape");
  EXPECT_THROWS_WITH(blip2::json::parse("tru"), "expected a value");
  EXPECT_THROWS_WITH(blip2::json::parse(""), "unexpected end of input");
  // numbers as RFC 8259 writes them: no leading zeros, digits after the point and in the exponent
  EXPECT_THROWS_WITH(blip2::json::parse("[01]"), "invalid JSON at byte 1", "leading zero in a number");
  EXPECT_THROWS_WITH(blip2::json::parse("[-012]"), "leading zero in a number");
  EXPECT_THROWS_WITH(blip2::json::parse("[1.]"), "invalid JSON at byte 3", "expected a digit after the decimal point");
  EXPECT_THROWS_WITH(blip2::json::parse("[1.e5]"), "expected a digit after the decimal point");
  EXPECT_THROWS_WITH(blip2::json::parse("[1e]"), "expected a digit in the exponent");
  EXPECT_THROWS_WITH(blip2::json::parse("[2E+]"), "expected a digit in the exponent");
  EXPECT_THROWS_WITH(blip2::json::parse("[.5]"), "expected a value");
  EXPECT_THROWS_WITH(blip2::json::parse("[-]"), "expected a value");
  EXPECT_THROWS_WITH(blip2::json::parse(std::string(100000, '[')), "nesting too deep");
}

TEST_CASE(json_quote) {
  blip2_test::says("quote() escapes quotes, backslashes and control characters, and parse() reads it back");
  const std::string raw = "a\"b\\c\nd\x01";
  const std::string quoted = blip2::json::quote(raw);
  EXPECT_EQ(quoted, std::string("\"a\\\"b\\\\c\\nd\\u0001\""));
  EXPECT_EQ(blip2::json::parse(quoted).string, raw);
}

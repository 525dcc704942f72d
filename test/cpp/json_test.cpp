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
  EXPECT_THROWS_WITH(blip2::json::parse(std::string(100000, '[')), "nesting too deep");
}

TEST_CASE(json_quote) {
  blip2_test::says("quote() escapes quotes, backslashes and control characters, and parse() reads it back");
  const std::string raw = "a\"b\\c\nd\x01";
  const std::string quoted = blip2::json::quote(raw);
  EXPECT_EQ(quoted, std::string("\"a\\\"b\\\\c\\nd\\u0001\""));
  EXPECT_EQ(blip2::json::parse(quoted).string, raw);
}

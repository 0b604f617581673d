// Configs declared once (core/config.h): the JSON both ways from one member list, unknown keys and
// wrongly typed values refused with the key named, defaults kept for keys not given, validate()
// run, and help defaults read from the struct.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "core/config.h"
#include "core/error.h"

using namespace qnn;

namespace {

struct Example {
  std::string name = "resnet20";
  int64_t epochs = 200;
  uint64_t seed = 1;
  double lr = 0.1;
  bool augment = true;
  NumberOrWord bits{"2"};
  nlohmann::json schedule = nlohmann::json::object();

  QNN_CONFIG(Example, name, epochs, seed, lr, augment, bits, schedule)

  void validate() const { QNN_CHECK(epochs >= 1, "example config", "got epochs " << epochs << " (expected >= 1)"); }
};

}  // namespace

TEST_SUITE("config") {
  TEST_CASE("keys not given keep their defaults; the JSON round-trips") {
    const Example e = parse_config<Example>({{"epochs", 7}, {"lr", 0.2}}, "example config");
    CHECK(e.epochs == 7);
    CHECK(e.lr == 0.2);
    CHECK(e.name == "resnet20");
    CHECK(e.seed == 1);
    const nlohmann::json j = e;
    CHECK(j.size() == 7);  // every member, once
    CHECK(j.at("bits") == 2);
    const Example back = parse_config<Example>(j, "example config");
    CHECK(nlohmann::json(back) == j);
  }

  TEST_CASE("an unknown key is named, with the keys that exist") {
    CHECK_THROWS_WITH_AS(parse_config<Example>({{"epoch", 3}}, "example config"),
                         doctest::Contains("unknown key 'epoch' (expected one of"), Error);
    CHECK_THROWS_WITH_AS(parse_config<Example>({{"epoch", 3}}, "example config"), doctest::Contains("epochs"), Error);
    CHECK_THROWS_WITH_AS(parse_config<Example>(nlohmann::json::array(), "example config"),
                         doctest::Contains("expected a JSON object"), Error);
  }

  TEST_CASE("a value of the wrong type names its key and what it got") {
    CHECK_THROWS_WITH_AS(parse_config<Example>({{"lr", "fast"}}, "example config"),
                         doctest::Contains("key 'lr' got \"fast\""), Error);
    CHECK_THROWS_WITH_AS(parse_config<Example>({{"augment", 1}}, "example config"), doctest::Contains("key 'augment'"),
                         Error);
    CHECK_THROWS_WITH_AS(parse_config<Example>({{"name", 5}}, "example config"), doctest::Contains("key 'name'"),
                         Error);
    // nlohmann alone would truncate 2.5 to 2 and wrap -1 to 2^64 - 1.
    CHECK_THROWS_WITH_AS(parse_config<Example>({{"epochs", 2.5}}, "example config"),
                         doctest::Contains("expected an integer"), Error);
    CHECK_THROWS_WITH_AS(parse_config<Example>({{"seed", -1}}, "example config"),
                         doctest::Contains("expected an integer >= 0"), Error);
    CHECK_THROWS_WITH_AS(parse_config<Example>({{"bits", true}}, "example config"), doctest::Contains("key 'bits'"),
                         Error);
    // A float member takes an integer.
    CHECK(parse_config<Example>({{"lr", 1}}, "example config").lr == 1.0);
  }

  TEST_CASE("validate() runs after parsing") {
    CHECK_THROWS_WITH_AS(parse_config<Example>({{"epochs", 0}}, "example config"),
                         doctest::Contains("got epochs 0 (expected >= 1)"), Error);
  }

  TEST_CASE("NumberOrWord: a number or a word in, back as it was") {
    const Example a = parse_config<Example>({{"bits", "ternary"}}, "example config");
    CHECK(a.bits.text == "ternary");
    CHECK(nlohmann::json(a).at("bits") == "ternary");
    const Example b = parse_config<Example>({{"bits", 4}}, "example config");
    CHECK(b.bits.text == "4");
    CHECK(nlohmann::json(b).at("bits") == 4);
    CHECK(parse_config<Example>({{"bits", "4"}}, "example config").bits == NumberOrWord{"4"});
  }

  TEST_CASE("default_text: help texts read the struct's defaults") {
    CHECK(default_text<Example>("lr") == "0.1");
    CHECK(default_text<Example>("name") == "resnet20");
    CHECK(default_text<Example>("augment") == "true");
    CHECK(default_text<Example>("bits") == "2");
    CHECK_THROWS_AS(default_text<Example>("nope"), Error);
  }

  TEST_CASE("read_json_file names the file and the parser's complaint") {
    CHECK_THROWS_WITH_AS(read_json_file("/nonexistent/x.json", "test"),
                         doctest::Contains("/nonexistent/x.json: no such"), Error);
    // A folder is not read as a file (the stream would fail with "basic_filebuf::underflow").
    CHECK_THROWS_WITH_AS(read_json_file("/tmp", "test"), doctest::Contains("/tmp: not a regular file"), Error);
  }
}

// Dataset basics: get(i) is deterministic, sample seeds differ across (seed, epoch, index), Subset.
#include <doctest/doctest.h>

#include <set>
#include <vector>

#include "core/ops.h"
#include "datasets/dataset.h"

using namespace qnn;
using namespace qnn::data;

namespace {
// Example i: image [1, 1, 1] holding a uniform draw, label i.
class Draws : public Dataset {
 public:
  int64_t size() const override { return 6; }
  using Dataset::get;
  Example get(int64_t i, Generator& gen) const override { return {full({1, 1, 1}, gen.uniform()), i}; }
};
}  // namespace

TEST_SUITE("dataset") {
  TEST_CASE("get(i) uses the generator of sample_seed(0, 0, i)") {
    Draws d;
    Generator gen(sample_seed(0, 0, 4));
    CHECK(d.get(4).image.item() == d.get(4, gen).image.item());
    CHECK(d.get(4).image.item() == d.get(4).image.item());
    CHECK(d.get(4).image.item() != d.get(5).image.item());
  }

  TEST_CASE("sample seeds differ for every (seed, epoch, index) nearby") {
    std::set<uint64_t> seeds;
    for (uint64_t s = 0; s < 4; ++s)
      for (int64_t e = 0; e < 8; ++e)
        for (int64_t i = -1; i < 64; ++i)
          seeds.insert(sample_seed(s, e, i));
    CHECK(seeds.size() == 4 * 8 * 65);
    CHECK(sample_seed(0, 1, 2) != sample_seed(0, 2, 1));
  }

  TEST_CASE("Subset picks examples by index") {
    auto base = std::make_shared<Draws>();
    Subset sub(base, {5, 0, 5});
    CHECK(sub.size() == 3);
    CHECK(sub.get(0).label == 5);
    CHECK(sub.get(1).label == 0);
    Generator a(3), b(3);
    CHECK(sub.get(2, a).image.item() == base->get(5, b).image.item());
    CHECK_THROWS_AS(sub.get(3), Error);
    CHECK_THROWS_AS(Subset(base, {6}), Error);
    CHECK_THROWS_AS(Subset(base, {-1}), Error);
  }
}

// Tensor handle, views, creation, printing, allocator.
#include <doctest/doctest.h>

#include <sstream>

#include "core/allocator.h"
#include "core/ops.h"

using namespace qnn;

TEST_CASE("views share storage and compute the right strides") {
  Tensor x = arange(0, 24, 1).reshape({2, 3, 4});
  CHECK(x.shape() == Shape{2, 3, 4});
  CHECK(x.strides() == Shape{12, 4, 1});
  Tensor t = x.transpose(0, 2);
  CHECK(t.shape() == Shape{4, 3, 2});
  CHECK(t.strides() == Shape{1, 4, 12});
  CHECK_FALSE(t.is_contiguous());
  CHECK(t.storage() == x.storage());
  CHECK(t.contiguous().to_vector<float>()[1] == 12.0f);  // t[0,0,1] = x[1,0,0]
  Tensor n = x.narrow(1, 1, 2);
  CHECK(n.shape() == Shape{2, 2, 4});
  CHECK(n.offset() == 4);
  CHECK(n.contiguous().to_vector<float>()[0] == 4.0f);
  Tensor s = x.slice(2, 0, 4, 2);  // every other column
  CHECK(s.to_vector<float>() == std::vector<float>{0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22});
  Tensor e = from_vector({1.0f, 2.0f, 3.0f}).unsqueeze(0).expand({2, 3});
  CHECK(e.strides() == Shape{0, 1});
  CHECK(e.to_vector<float>() == std::vector<float>{1, 2, 3, 1, 2, 3});
  CHECK(x.select(0, 1).shape() == Shape{3, 4});
  CHECK(x.select(0, -1).to_vector<float>()[0] == 12.0f);
  CHECK(x.unsqueeze(-1).shape() == Shape{2, 3, 4, 1});
  CHECK(x.unsqueeze(-1).squeeze().shape() == Shape{2, 3, 4});
  CHECK(x.permute({2, 0, 1}).shape() == Shape{4, 2, 3});
  CHECK(x.flatten(1).shape() == Shape{2, 12});
  CHECK(x.view({-1, 4}).shape() == Shape{6, 4});
}

TEST_CASE("view refuses incompatible strides; reshape copies instead") {
  Tensor x = arange(0, 6, 1).reshape({2, 3}).t();
  CHECK_THROWS_WITH_AS(x.view({6}), doctest::Contains("without a copy"), Error);
  Tensor r = x.reshape({6});
  CHECK(r.to_vector<float>() == std::vector<float>{0, 3, 1, 4, 2, 5});
  CHECK(r.storage() != x.storage());
}

TEST_CASE("bad shapes and dims give a clear qnn::Error") {
  Tensor x = zeros({2, 3});
  CHECK_THROWS_WITH_AS(x.view({4, 2}), doctest::Contains("view: got shape [4, 2] (8 elements)"), Error);
  CHECK_THROWS_WITH_AS(x.transpose(0, 2), doctest::Contains("transpose: dimension 2 is out of range"), Error);
  CHECK_THROWS_WITH_AS(x.expand({3, 3}), doctest::Contains("cannot expand [2, 3] to [3, 3]"), Error);
  CHECK_THROWS_WITH_AS(x.narrow(1, 2, 2), doctest::Contains("narrow: got start 2 and length 2"), Error);
  CHECK_THROWS_WITH_AS(zeros({2}, DType::Int64).data<float>(), doctest::Contains("got dtype int64 (expected float32)"),
                       Error);
  CHECK_THROWS_AS(Tensor().shape(), Error);
}

TEST_CASE("creation functions") {
  CHECK(zeros({2, 2}).to_vector<float>() == std::vector<float>(4, 0.0f));
  CHECK(full({3}, 2.5f).to_vector<float>() == std::vector<float>(3, 2.5f));
  CHECK(arange(5).to_vector<int64_t>() == std::vector<int64_t>{0, 1, 2, 3, 4});
  CHECK(arange(1, 2, 0.25).to_vector<float>() == std::vector<float>{1, 1.25, 1.5, 1.75});
  Generator g1(7), g2(7);
  CHECK(randn({100}, g1).to_vector<float>() == randn({100}, g2).to_vector<float>());
  Generator g3(8);
  CHECK(rand({100}, g1).to_vector<float>() != rand({100}, g3).to_vector<float>());
  Generator g(0);
  const std::vector<float> n = randn({20000}, g).to_vector<float>();
  double mean = 0, sq = 0;
  for (float v : n)
    mean += v;
  mean /= n.size();
  for (float v : n)
    sq += (v - mean) * (v - mean);
  CHECK(std::abs(mean) < 0.03);
  CHECK(std::abs(sq / n.size() - 1.0) < 0.05);
  const std::vector<int64_t> ri = randint(3, 7, {1000}, g).to_vector<int64_t>();
  CHECK(*std::min_element(ri.begin(), ri.end()) == 3);
  CHECK(*std::max_element(ri.begin(), ri.end()) == 6);
  CHECK_THROWS_WITH_AS(randint(3, 3, {1}), doctest::Contains("randint: got range [3, 3)"), Error);
  CHECK_THROWS_WITH_AS(from_vector<float>({1, 2, 3}, {2, 2}), doctest::Contains("got 3 values for shape [2, 2]"),
                       Error);
}

TEST_CASE("dtype conversion") {
  Tensor x = from_vector({1.7f, -2.2f, 3.0f});
  CHECK(x.to(DType::Int64).to_vector<int64_t>() == std::vector<int64_t>{1, -2, 3});
  CHECK(x.to(DType::UInt8).to(DType::Float32).to_vector<float>()[2] == 3.0f);
}

TEST_CASE("printing is PyTorch-like and elides large tensors") {
  std::ostringstream a;
  a << arange(0, 4, 1).reshape({2, 2});
  CHECK(a.str() == "tensor([[0.0000, 1.0000],\n        [2.0000, 3.0000]])");
  std::ostringstream b;
  b << arange(5);
  CHECK(b.str() == "tensor([0, 1, 2, 3, 4], dtype=int64)");
  std::ostringstream c;
  c << zeros({2000});
  CHECK(c.str() == "tensor([0.0000, 0.0000, 0.0000, ..., 0.0000, 0.0000, 0.0000])");
}

TEST_CASE("the caching allocator reuses freed blocks and tracks the peak") {
  empty_cpu_cache();
  reset_peak_memory();
  const AllocatorStats before = cpu_allocator_stats();
  { Tensor big = empty({1 << 20}); }  // 4 MiB, freed at once
  const AllocatorStats mid = cpu_allocator_stats();
  { Tensor again = empty({1 << 20}); }
  const AllocatorStats after = cpu_allocator_stats();
  CHECK(after.cache_hits == mid.cache_hits + 1);
  CHECK(mid.peak_allocated_bytes >= before.allocated_bytes + (4u << 20));
  CHECK(after.allocated_bytes == before.allocated_bytes);
  CHECK(allocation_size_class(5000) == 5120);  // 4096 * 1.25
  CHECK(allocation_size_class(100) == 128);
  CHECK(allocation_size_class(1 << 20) == (1u << 20));
}

TEST_CASE("empty tensors are contiguous whatever their strides") {
  Tensor e = zeros({2, 0});
  CHECK(e.is_contiguous());
  CHECK(e.t().is_contiguous());
  CHECK(zeros({0, 3}).slice(1, 0, 3, 2).is_contiguous());
  CHECK_FALSE(zeros({2, 3}).t().is_contiguous());
}

// Runs every file of fuzz/corpus/<target>/ and fuzz/regressions/<target>/
// through its fuzz target, so past findings stay fixed in every test run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace tc::fuzz {
int tcp_packet(const uint8_t* data, size_t size);
int wire(const uint8_t* data, size_t size);
int text(const uint8_t* data, size_t size);
int control(const uint8_t* data, size_t size);
int engine(const uint8_t* data, size_t size);
int nfqueue(const uint8_t* data, size_t size);
int link_layer(const uint8_t* data, size_t size);
int answer(const uint8_t* data, size_t size);

namespace {

struct Target {
  const char* name;
  int (*run)(const uint8_t*, size_t);
};

const Target kTargets[] = {
    {"tcp_packet", tcp_packet}, {"wire", wire}, {"text", text},
    {"control", control},       {"engine", engine}, {"nfqueue", nfqueue},
    {"link_layer", link_layer}, {"answer", answer},
};

std::vector<std::filesystem::path> files_in(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  if (!std::filesystem::is_directory(dir)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename().string().front() != '.') out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

size_t replay(const Target& t, const std::filesystem::path& dir) {
  size_t n = 0;
  for (const auto& path : files_in(dir)) {
    std::ifstream in(path, std::ios::binary);
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Named before it runs: a crash shows which input it was.
    std::fprintf(stderr, "replay %s\n", path.c_str());
    t.run(bytes.data(), bytes.size());
    ++n;
  }
  return n;
}

class Replay : public ::testing::TestWithParam<Target> {};

TEST_P(Replay, CorpusAndRegressions) {
  const std::filesystem::path root(TC_FUZZ_DIR);
  const size_t corpus = replay(GetParam(), root / "corpus" / GetParam().name);
  const size_t regressions = replay(GetParam(), root / "regressions" / GetParam().name);
  EXPECT_GT(corpus, 0u) << "fuzz/corpus/" << GetParam().name << " has no seeds";
  std::fprintf(stderr, "%s: %zu corpus and %zu regression inputs replayed\n", GetParam().name, corpus, regressions);
}

TEST_P(Replay, EmptyAndTinyInputs) {
  const uint8_t zeros[64] = {};
  for (size_t n = 0; n <= sizeof zeros; ++n) GetParam().run(zeros, n);
}

INSTANTIATE_TEST_SUITE_P(Fuzz, Replay, ::testing::ValuesIn(kTargets),
                         [](const ::testing::TestParamInfo<Target>& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace tc::fuzz

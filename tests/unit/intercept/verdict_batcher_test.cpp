#include "intercept/nfqueue/verdict_batcher.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace tc::intercept {
namespace {

constexpr auto kDrop = Verdict::Kind::kDropUpTo;
constexpr auto kAccept = Verdict::Kind::kAccept;

std::vector<Verdict> plan(const std::vector<std::pair<uint32_t, bool>>& decisions) {
  VerdictBatcher b;
  for (auto [id, accept] : decisions) b.add(id, accept);
  b.finish();
  return {b.verdicts().begin(), b.verdicts().end()};
}

TEST(VerdictBatcher, NothingInNothingOut) { EXPECT_TRUE(plan({}).empty()); }

TEST(VerdictBatcher, ARunOfDropsIsOneBatchToTheLastId) {
  EXPECT_EQ(plan({{1, false}, {2, false}, {3, false}}), (std::vector<Verdict>{{kDrop, 3}}));
}

TEST(VerdictBatcher, AcceptClosesTheRunBeforeIt) {
  EXPECT_EQ(plan({{1, false}, {2, false}, {3, true}, {4, false}, {5, false}}),
            (std::vector<Verdict>{{kDrop, 2}, {kAccept, 3}, {kDrop, 5}}));
}

TEST(VerdictBatcher, AcceptsAreEachTheirOwnVerdict) {
  EXPECT_EQ(plan({{7, true}, {8, true}, {9, false}}), (std::vector<Verdict>{{kAccept, 7}, {kAccept, 8}, {kDrop, 9}}));
}

TEST(VerdictBatcher, TrailingAcceptLeavesNoOpenRun) {
  EXPECT_EQ(plan({{1, false}, {2, true}}), (std::vector<Verdict>{{kDrop, 1}, {kAccept, 2}}));
}

TEST(VerdictBatcher, IdsAcrossWrapAroundKeepArrivalOrder) {
  // The kernel compares ids with serial arithmetic; the batch names the last
  // id that arrived, not the numerically largest.
  EXPECT_EQ(plan({{0xfffffffe, false}, {0xffffffff, false}, {0, false}, {1, false}}),
            (std::vector<Verdict>{{kDrop, 1}}));
}

TEST(VerdictBatcher, EveryPacketIsCoveredAndOrderIsKept) {
  // Exhaustive over 8 packets: each id is covered by exactly the verdict it
  // was decided, and verdict ids increase.
  for (unsigned mask = 0; mask < 256; ++mask) {
    std::vector<std::pair<uint32_t, bool>> d;
    for (uint32_t id = 1; id <= 8; ++id) d.emplace_back(id, (mask >> (id - 1)) & 1);
    const auto v = plan(d);
    size_t at = 0;
    uint32_t covered = 0;
    for (uint32_t id = 1; id <= 8; ++id) {
      ASSERT_LT(at, v.size());
      if (d[id - 1].second) {
        ASSERT_EQ(v[at], (Verdict{kAccept, id}));
        covered = id;
        ++at;
      } else if (v[at].id == id) {
        ASSERT_EQ(v[at].kind, kDrop);
        covered = id;
        ++at;
      } else {
        ASSERT_EQ(v[at].kind, kDrop) << "mask " << mask;
        ASSERT_GT(v[at].id, id);
      }
    }
    EXPECT_EQ(at, v.size());
    EXPECT_EQ(covered, 8u);
  }
}

TEST(VerdictBatcher, ClearStartsAFreshBatch) {
  VerdictBatcher b;
  b.add(1, false);
  b.clear();
  b.add(2, true);
  b.finish();
  ASSERT_EQ(b.verdicts().size(), 1u);
  EXPECT_EQ(b.verdicts()[0], (Verdict{kAccept, 2}));
}

}  // namespace
}  // namespace tc::intercept

#include "intercept/nfqueue/verdict_batcher.h"

namespace tc::intercept {

void VerdictBatcher::add(uint32_t id, bool accept) {
  if (!accept) {
    last_drop_ = id;
    return;
  }
  finish();
  verdicts_.push_back({Verdict::Kind::kAccept, id});
}

void VerdictBatcher::finish() {
  if (!last_drop_) return;
  verdicts_.push_back({Verdict::Kind::kDropUpTo, *last_drop_});
  last_drop_.reset();
}

void VerdictBatcher::clear() {
  verdicts_.clear();
  last_drop_.reset();
}

}  // namespace tc::intercept

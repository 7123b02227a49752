#include "intercept/routing/parked_replies.h"

#include <cstring>

namespace tc::intercept {

ParkedReplies::ParkedReplies(size_t capacity, Duration ttl) : slots_(capacity), ttl_(ttl) {
  free_.reserve(capacity);
  for (size_t i = capacity; i > 0; --i) free_.push_back(static_cast<uint32_t>(i - 1));
  chains_.reserve(capacity);
}

bool ParkedReplies::park(const SessionKey& key, const RoutedReply& reply, TimePoint now) {
  const std::span<const uint8_t> bytes = reply.bytes;
  if (slots_.empty() || bytes.empty() || bytes.size() > wire::kMaxReplyEntry || reply.header_len > bytes.size())
    return false;
  expire(now);
  if (free_.empty()) {
    ++overflow_;
    drop_oldest();
  }
  const uint32_t i = free_.back();
  free_.pop_back();
  Slot& s = slots_[i];
  s.key = key;
  s.parked_at = now;
  s.length = static_cast<uint16_t>(bytes.size());
  s.header_len = static_cast<uint16_t>(reply.header_len);
  std::memcpy(s.bytes.data(), bytes.data(), bytes.size());
  s.next_same_key = kNone;
  s.newer = kNone;
  s.older = newest_;
  if (newest_ != kNone) slots_[newest_].newer = i;
  newest_ = i;
  if (oldest_ == kNone) oldest_ = i;

  Chain& c = chains_[key];
  if (c.last != kNone) slots_[c.last].next_same_key = i;
  else c.first = i;
  c.last = i;
  ++live_;
  return true;
}

void ParkedReplies::expire(TimePoint now) {
  while (oldest_ != kNone && now - slots_[oldest_].parked_at >= ttl_) {
    ++expired_;
    drop_oldest();
  }
}

void ParkedReplies::drop_oldest() {
  const uint32_t i = oldest_;
  Slot& s = slots_[i];
  // Chains are in arrival order too, so the oldest slot heads its chain.
  auto it = chains_.find(s.key);
  if (it != chains_.end()) {
    it->second.first = s.next_same_key;
    if (it->second.first == kNone) chains_.erase(it);
  }
  unlink_age(i);
  free_.push_back(i);
  --live_;
}

void ParkedReplies::unlink_age(uint32_t index) {
  Slot& s = slots_[index];
  if (s.older != kNone) slots_[s.older].newer = s.newer;
  else oldest_ = s.newer;
  if (s.newer != kNone) slots_[s.newer].older = s.older;
  else newest_ = s.older;
  s.older = s.newer = kNone;
}

}  // namespace tc::intercept

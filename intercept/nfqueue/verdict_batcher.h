// Turns per-packet decisions into the fewest NFQUEUE verdict messages that
// keep them in id order. Drops are the common case and go out as one
// NFQNL_MSG_VERDICT_BATCH per run (it covers every queued id up to the one
// named); an accepted packet needs its own verdict, so the run of drops
// before it is closed first.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace tc::intercept {

struct Verdict {
  enum class Kind : uint8_t {
    kDropUpTo,  // batch: NF_DROP for every queued id <= id
    kAccept,    // single: NF_ACCEPT for id
  };
  Kind kind;
  uint32_t id;
  friend bool operator==(const Verdict&, const Verdict&) = default;
};

class VerdictBatcher {
 public:
  // Decisions must arrive in the order the kernel queued the packets.
  void add(uint32_t id, bool accept);
  // Closes the open run of drops, if any.
  void finish();
  // The verdicts so far, in the order they must be sent.
  std::span<const Verdict> verdicts() const { return verdicts_; }
  // Starts the next batch; keeps the capacity so steady state does not allocate.
  void clear();

 private:
  std::vector<Verdict> verdicts_;
  std::optional<uint32_t> last_drop_;
};

}  // namespace tc::intercept

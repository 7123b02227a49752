// Counts every allocation of the test program (the global operator new is
// replaced in allocation_count.cpp), to show that a data-path call makes
// none.
#pragma once

#include <cstdint>

namespace tc::testing {

uint64_t allocations();

}  // namespace tc::testing

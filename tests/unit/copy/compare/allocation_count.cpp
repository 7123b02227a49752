#include "tests/unit/copy/compare/allocation_count.h"

#include <atomic>
#include <cstdlib>
#include <new>

// GCC, inlining these into their callers, reads free() of a pointer that
// came from operator new as a mismatch: here the pair is malloc and free
// on both sides.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace {
std::atomic<uint64_t> g_allocations{0};
}  // namespace

namespace tc::testing {
uint64_t allocations() { return g_allocations.load(); }
}  // namespace tc::testing

namespace {
[[gnu::noinline]] void* counted(std::size_t size) {
  ++g_allocations;
  return std::malloc(size ? size : 1);
}
}  // namespace

// Every form of the global operator new and delete, so that no pointer of
// one is released by another (the sanitizers check the pairs).
void* operator new(std::size_t size) {
  if (void* p = counted(size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  if (void* p = counted(size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return counted(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return counted(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

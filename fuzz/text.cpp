// Text from the command line: the -x transfer parser, endpoint lists, the
// --allow prefix list, addresses, and both daemons' whole command lines
// (the input split at NUL bytes into arguments).
//
// Parsers still to come get their place here: the -c client address
// rewrite map, once it exists.
#include <string>
#include <string_view>
#include <vector>

#include "common/address_prefix.h"
#include "common/ip_address.h"
#include "copy/engine/transfer_map.h"
#include "copy/options.h"
#include "fuzz/fuzz_target.h"
#include "intercept/options.h"

TC_FUZZ_TARGET(text) {
  using namespace tc;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string_view first = text.substr(0, text.find('\0'));
  std::string err;

  TransferMap map;
  if (TransferMap::parse(first, map).empty()) {
    TC_FUZZ_CHECK(!map.empty());
    for (const Transfer& t : map.transfers()) {
      TC_FUZZ_CHECK(t.online_port != 0 && t.target.port != 0 && !t.target.addr.is_unspecified());
      TC_FUZZ_CHECK(map.find(t.online_addr ? *t.online_addr : IpAddress{}, t.online_port) != nullptr ||
                    t.online_addr);
    }
  }
  for (uint16_t port : {uint16_t{0}, uint16_t{36524}}) {
    if (auto list = parse_endpoint_list(first, port, err)) {
      TC_FUZZ_CHECK(!list->empty());
      for (const Endpoint& e : *list) {
        TC_FUZZ_CHECK(e.port != 0);
        // What is printed parses back to the same endpoint.
        auto again = parse_endpoint(e.to_string(), 0, err);
        TC_FUZZ_CHECK(again && *again == e);
      }
    }
  }
  if (auto prefixes = parse_prefix_list(first, err)) {
    for (const AddressPrefix& p : *prefixes) {
      auto again = AddressPrefix::parse(p.to_string(), err);
      TC_FUZZ_CHECK(again && again->to_string() == p.to_string());
    }
  }
  if (auto a = IpAddress::parse(first)) TC_FUZZ_CHECK(IpAddress::parse(a->to_string()) == a);

  // Whole command lines; getopt needs writable strings.
  std::vector<std::string> args{"prog"};
  size_t start = 0;
  while (start <= text.size() && args.size() < 64) {
    const size_t end = std::min(text.find('\0', start), text.size());
    args.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int argc = static_cast<int>(args.size());
  CopyOptions copy;
  const ParseResult r = parse_copy_options(argc, argv.data(), copy);
  TC_FUZZ_CHECK((r.action == ParseResult::Action::kError) == !r.error.empty());
  if (r.action == ParseResult::Action::kRun) TC_FUZZ_CHECK(!copy.engine.transfers.empty() && !copy.intercepts.empty());
  // getopt permutes argv: give the second parser a fresh copy.
  std::vector<std::string> args2 = args;
  std::vector<char*> argv2;
  for (auto& a : args2) argv2.push_back(a.data());
  argv2.push_back(nullptr);
  intercept::Options icpt;
  const ParseResult ri = intercept::parse_options(argc, argv2.data(), icpt);
  TC_FUZZ_CHECK((ri.action == ParseResult::Action::kError) == !ri.error.empty());
  return 0;
}

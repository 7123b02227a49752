// A host for the doctor's checks in tests: files, command answers,
// interfaces and offloads are whatever the test sets.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/doctor.h"

namespace tc::doctor {

class FakeHost : public Host {
 public:
  std::map<std::string, std::string> files;
  std::map<std::string, CommandResult> commands;  // key: argv joined by spaces
  std::vector<Interface> ifaces;
  std::map<std::string, Offloads> offload;
  std::vector<std::string> ran;

  std::optional<std::string> read_file(const std::string& path) override {
    auto it = files.find(path);
    if (it == files.end()) return std::nullopt;
    return it->second;
  }
  CommandResult run(const std::vector<std::string>& argv) override {
    std::string key;
    for (const auto& a : argv) key += (key.empty() ? "" : " ") + a;
    ran.push_back(key);
    auto it = commands.find(key);
    if (it == commands.end()) return CommandResult{false, -1, "", argv[0] + ": command not found"};
    return it->second;
  }
  std::vector<Interface> interfaces() override { return ifaces; }
  std::optional<Offloads> offloads(const std::string& name) override {
    auto it = offload.find(name);
    if (it == offload.end()) return std::nullopt;
    return it->second;
  }

  // Helpers for the usual set-up.
  void caps(uint64_t mask) {
    char hex[32];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(mask));
    files["/proc/self/status"] = std::string("Name:\tx\nCapInh:\t0000000000000000\nCapPrm:\t") + hex +
                                 "\nCapEff:\t" + hex + "\nCapBnd:\t000001ffffffffff\n";
  }
  void answer(const std::string& command, int status, std::string out, std::string err = {}) {
    commands[command] = CommandResult{true, status, std::move(out), std::move(err)};
  }
  void rp_filter(const std::string& iface, int value) {
    files["/proc/sys/net/ipv4/conf/" + iface + "/rp_filter"] = std::to_string(value) + "\n";
  }
};

inline const Finding* find_check(const Report& r, const std::string& check_prefix) {
  for (const Finding& f : r.findings())
    if (f.check.rfind(check_prefix, 0) == 0) return &f;
  return nullptr;
}

}  // namespace tc::doctor

// What the doctor's checks read from the host (files, commands,
// interfaces), behind a seam tests fake; the real host never changes
// anything.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ip_address.h"

namespace tc::doctor {

struct CommandResult {
  bool started = false;   // false: the program was not found or could not run
  int exit_status = -1;   // -1: killed (timeout) or abnormal end
  std::string out;        // standard output (capped)
  std::string err;        // standard error (capped), or why it did not start
};

struct Interface {
  std::string name;
  bool up = false;
  bool loopback = false;
  std::vector<IpAddress> addresses;
};

struct Offloads {
  bool gro = false;
  bool lro = false;
};

// What the checks read from the host. Tests give a fake one.
class Host {
 public:
  virtual ~Host() = default;
  virtual std::optional<std::string> read_file(const std::string& path) = 0;
  // Runs a program (looked up in PATH, then /usr/sbin and /sbin) with a
  // time limit; never through a shell.
  virtual CommandResult run(const std::vector<std::string>& argv) = 0;
  virtual std::vector<Interface> interfaces() = 0;
  // nullopt when the driver does not say (or the interface is gone).
  virtual std::optional<Offloads> offloads(const std::string& interface) = 0;
};

// The real host: files, posix_spawn with pipes, getifaddrs, ethtool ioctls.
class SystemHost : public Host {
 public:
  explicit SystemHost(Duration command_timeout = 5s) : timeout_(command_timeout) {}
  std::optional<std::string> read_file(const std::string& path) override;
  CommandResult run(const std::vector<std::string>& argv) override;
  std::vector<Interface> interfaces() override;
  std::optional<Offloads> offloads(const std::string& interface) override;

 private:
  Duration timeout_;
};

}  // namespace tc::doctor

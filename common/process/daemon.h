// Running in the background: detaching from the terminal and the pid file.
#pragma once

#include <string>

namespace tc {

// fork, setsid, stdio to /dev/null, cwd "/". Returns in the child only; the
// parent exits 0. Sockets opened before stay open, so start-up errors are
// reported to the shell before detaching. Throws std::system_error.
void daemonize();

// Writes the process id to `path` on construction, removes it on destruction.
class PidFile {
 public:
  explicit PidFile(std::string path);  // throws std::system_error
  ~PidFile();
  PidFile(const PidFile&) = delete;
  PidFile& operator=(const PidFile&) = delete;

 private:
  std::string path_;
};

}  // namespace tc

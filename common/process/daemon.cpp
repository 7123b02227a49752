#include "common/process/daemon.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

#include "common/unique_fd.h"

namespace tc {

namespace {

[[noreturn]] void fail(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

}  // namespace

void daemonize() {
  pid_t pid = fork();
  if (pid < 0) fail("fork");
  if (pid > 0) _exit(0);
  if (setsid() < 0) fail("setsid");
  // A second fork: the daemon is not a session leader, so it can never
  // acquire a controlling terminal again.
  pid = fork();
  if (pid < 0) fail("fork");
  if (pid > 0) _exit(0);
  if (chdir("/") != 0) fail("chdir /");
  UniqueFd null(open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null) fail("open /dev/null");
  for (int fd = 0; fd <= 2; ++fd)
    if (dup2(null.get(), fd) < 0) fail("dup2");
}

PidFile::PidFile(std::string path) : path_(std::move(path)) {
  UniqueFd fd(open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) fail(("pid file " + path_).c_str());
  const std::string text = std::to_string(getpid()) + "\n";
  if (write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) fail("write pid file");
}

PidFile::~PidFile() { unlink(path_.c_str()); }

}  // namespace tc

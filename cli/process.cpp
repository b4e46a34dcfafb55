#include "process.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

namespace quicc::cli {

StandardFds ensure_standard_fds() {
  StandardFds closed;
  bool* flags[3] = {&closed.input_closed, &closed.output_closed, &closed.error_closed};
  for (int fd = 0; fd < 3; ++fd) {
    if (fcntl(fd, F_GETFD) != -1) continue;
    *flags[fd] = true;
    // open() returns the lowest free descriptor, which is this one.
    int opened = ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
    if (opened >= 0 && opened != fd) ::close(opened);
  }
  return closed;
}

bool append_json_line(const std::string& path, const std::string& line, std::string& error) {
  std::string content = line + "\n";
  if (path == "-") {
    bool ok = std::fwrite(content.data(), 1, content.size(), stdout) == content.size() &&
              std::fflush(stdout) == 0;
    if (!ok) error = std::string("cannot write --json-file to stdout: ") + std::strerror(errno);
    return ok;
  }
  std::FILE* f = std::fopen(path.c_str(), "a");
  bool ok = f && std::fwrite(content.data(), 1, content.size(), f) == content.size();
  if (f && std::fclose(f) != 0) ok = false;
  if (!ok) error = "cannot write --json-file '" + path + "': " + std::strerror(errno);
  return ok;
}

void ignore_sigpipe() { std::signal(SIGPIPE, SIG_IGN); }

}  // namespace quicc::cli

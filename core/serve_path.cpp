#include "serve_path.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace quicc {

namespace {

// realpath(3), as a string; empty with errno set on failure.
std::string real_path(const std::string& path) {
  char* resolved = ::realpath(path.c_str(), nullptr);
  if (!resolved) return {};
  std::string out(resolved);
  std::free(resolved);
  return out;
}

bool has_dot_dot(std::string_view path) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (path.substr(start, end - start) == "..") return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

bool request_complete(std::string_view received, bool fin) {
  return fin || received.find('\n') != std::string_view::npos;
}

std::optional<std::string> parse_get_request(std::string_view received, std::string& error) {
  std::string_view line = received.substr(0, received.find('\n'));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.substr(0, 5) != "GET /") {
    error = "not an HTTP/0.9 request (GET /PATH)";
    return std::nullopt;
  }
  std::string_view path = line.substr(5);
  // "GET /index.html HTTP/1.0": clients that speak a later HTTP add a version.
  if (size_t space = path.find(' '); space != std::string_view::npos) path = path.substr(0, space);
  if (path.find('\0') != std::string_view::npos) {
    error = "a NUL byte in the path";
    return std::nullopt;
  }
  return std::string(path);
}

UniqueFd open_served_file(const std::string& root, const std::string& path, std::string& error) {
  if (path.empty() || path.front() == '/') {
    error = "refused: not a file below the served directory";
    return UniqueFd();
  }
  if (has_dot_dot(path)) {
    error = "refused: a '..' component";
    return UniqueFd();
  }
  std::string real_root = real_path(root);
  if (real_root.empty()) {
    error = "the served directory: " + std::string(std::strerror(errno));
    return UniqueFd();
  }
  std::string real = real_path(root + "/" + path);
  if (real.empty()) {
    error = std::strerror(errno);
    return UniqueFd();
  }
  // A symbolic link may point anywhere; only where it leads counts.
  if (real.compare(0, real_root.size(), real_root) != 0 ||
      (real.size() > real_root.size() && real[real_root.size()] != '/' && real_root != "/")) {
    error = "refused: leads out of the served directory";
    return UniqueFd();
  }
  // The real path has no link left; O_NOFOLLOW refuses one put there since realpath looked.
  // O_NONBLOCK: opening a FIFO for reading would wait for a writer, and the listener with it;
  // it is refused below (not a regular file), and a regular file's reads ignore the flag.
  UniqueFd fd(::open(real.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (fd.get() < 0) {
    error = std::strerror(errno);
    return UniqueFd();
  }
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    error = "refused: not a regular file";
    return UniqueFd();
  }
  return fd;
}

}  // namespace quicc

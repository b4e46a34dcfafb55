#include "file_checks.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace quicc::cli {

namespace {

std::string quoted(std::string_view what, const std::string& path) {
  return std::string(what) + " '" + path + "'";
}

std::string cannot(std::string_view verb, std::string_view what, const std::string& path,
                   int error) {
  return "cannot " + std::string(verb) + " " + quoted(what, path) + ": " + std::strerror(error);
}

}  // namespace

std::optional<std::string> check_readable_file(std::string_view what, const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return cannot("read", what, path, errno);
  struct stat st {};
  int error = ::fstat(fd, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
  ::close(fd);
  if (error != 0) return cannot("read", what, path, error);
  return std::nullopt;
}

std::optional<std::string> check_readable_directory(std::string_view what,
                                                    const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return cannot("read", what, path, errno);
  ::close(fd);
  // Looking a file up by name inside it takes search permission as well.
  if (::access(path.c_str(), X_OK) != 0) return cannot("read", what, path, errno);
  return std::nullopt;
}

std::optional<std::string> check_writable_file(std::string_view what, const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return cannot("write", what, path, EISDIR);
    // Opening a FIFO or a device could block or have effects: asking is enough there.
    if (!S_ISREG(st.st_mode)) {
      if (::access(path.c_str(), W_OK) != 0) return cannot("write", what, path, errno);
      return std::nullopt;
    }
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return cannot("write", what, path, errno);
    ::close(fd);
    return std::nullopt;
  }
  if (errno != ENOENT) return cannot("write", what, path, errno);
  struct stat link {};
  // A dangling symbolic link: the real open creates its target, which an exclusive create
  // cannot try without following it.
  if (::lstat(path.c_str(), &link) == 0 && S_ISLNK(link.st_mode)) return std::nullopt;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOCTTY | O_CLOEXEC, 0600);
  if (fd < 0) return cannot("write", what, path, errno);
  ::close(fd);
  ::unlink(path.c_str());
  return std::nullopt;
}

std::optional<std::string> check_writable_directory(std::string_view what,
                                                    const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return cannot("write", what, path, errno);
  if (!S_ISDIR(st.st_mode)) return quoted(what, path) + ": not a directory";
  // Creating a file in it takes search permission as well as write permission.
  if (::access(path.c_str(), W_OK | X_OK) != 0) return cannot("write", what, path, errno);
  return std::nullopt;
}

}  // namespace quicc::cli

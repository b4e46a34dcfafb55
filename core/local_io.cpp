#include "local_io.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace quicc {

namespace {

EndKind kind_of(int fd) {
  if (fd < 0) return EndKind::closed;
  struct stat st {};
  if (fstat(fd, &st) != 0) return EndKind::closed;
  if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) return EndKind::regular;
  if (S_ISFIFO(st.st_mode)) return EndKind::pipe;
  if (S_ISSOCK(st.st_mode)) return EndKind::socket;
  if (isatty(fd)) return EndKind::terminal;
  if (S_ISCHR(st.st_mode)) return EndKind::device;  // /dev/null, /dev/zero
  return EndKind::pipe;  // anything else: assume it can block, and poll it
}

}  // namespace

LocalInput::LocalInput(int fd) : fd_(fd), kind_(kind_of(fd)) {}

LocalInput::LocalInput(int fd, const std::vector<InputPart>& script) : LocalInput(fd) {
  if (script.empty()) return;
  script_ = &script;
  part_ = 0;
  offset_ = 0;
  const InputPart& first = script.front();
  fd_ = first.fd >= 0 ? first.fd : -1;
  kind_ = first.fd >= 0 ? kind_of(first.fd) : EndKind::memory;
}

void LocalInput::next_part() {
  ++part_;
  offset_ = 0;
  if (part_ >= script_->size()) {
    fd_ = -1;
    kind_ = EndKind::closed;
    return;
  }
  const InputPart& p = (*script_)[part_];
  fd_ = p.fd >= 0 ? p.fd : -1;
  kind_ = p.fd >= 0 ? kind_of(p.fd) : EndKind::memory;
}

bool LocalInput::always_ready() const {
  return kind_ == EndKind::regular || kind_ == EndKind::device || kind_ == EndKind::closed ||
         kind_ == EndKind::memory;
}

LocalInput::Result LocalInput::read(void* buffer, size_t length, size_t& n, std::string& error) {
  if (!crlf_) return read_input(buffer, length, n, error);
  // Half the room: every byte may become two. Then widen in place, from the end.
  Result r = read_input(buffer, std::max<size_t>(1, length / 2), n, error);
  if (r != Result::data) return r;
  auto* p = static_cast<unsigned char*>(buffer);
  auto after_cr = [&](size_t i) { return i > 0 ? p[i - 1] == '\r' : last_cr_; };
  size_t added = 0;
  for (size_t i = 0; i < n; ++i)
    if (p[i] == '\n' && !after_cr(i)) ++added;
  bool ends_cr = p[n - 1] == '\r';
  for (size_t i = n, out = n + added; i-- > 0;) {
    bool widen = p[i] == '\n' && !after_cr(i);
    p[--out] = p[i];
    if (widen) p[--out] = '\r';
  }
  last_cr_ = ends_cr;
  n += added;
  return r;
}

LocalInput::Result LocalInput::read_input(void* buffer, size_t length, size_t& n,
                                          std::string& error) {
  n = 0;
  if (!script_) return read_fd(buffer, length, n, error);
  for (;;) {
    if (kind_ == EndKind::closed) return Result::eof;
    if (kind_ == EndKind::memory) {
      const std::string& bytes = (*script_)[part_].bytes;
      if (offset_ < bytes.size()) {
        n = std::min(length, bytes.size() - offset_);
        std::memcpy(buffer, bytes.data() + offset_, n);
        offset_ += n;
        return Result::data;
      }
    } else {
      Result r = read_fd(buffer, length, n, error);
      if (r != Result::eof) {
        if (r == Result::failed) error = "'" + (*script_)[part_].file + "': " + error;
        return r;
      }
    }
    // This part is over: on to the next, which must be polled first unless it is always ready.
    next_part();
    if (!always_ready()) return Result::not_ready;
  }
}

LocalInput::Result LocalInput::read_fd(void* buffer, size_t length, size_t& n,
                                       std::string& error) {
  n = 0;
  if (kind_ == EndKind::closed) return Result::eof;
  for (;;) {
    ssize_t got = kind_ == EndKind::socket ? ::recv(fd_, buffer, length, MSG_DONTWAIT)
                                           : ::read(fd_, buffer, length);
    if (got > 0) {
      n = static_cast<size_t>(got);
      return Result::data;
    }
    if (got == 0) return Result::eof;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Result::not_ready;
    error = std::strerror(errno);
    return Result::failed;
  }
}

LocalOutput::LocalOutput(int fd) : fd_(fd), kind_(kind_of(fd)) {
  if (kind_ == EndKind::pipe) {
    int size = fcntl(fd, F_GETPIPE_SZ);
    if (size > 0) pipe_size_ = static_cast<size_t>(size);
  }
}

bool LocalOutput::always_ready() const {
  return kind_ == EndKind::regular || kind_ == EndKind::device || kind_ == EndKind::closed;
}

size_t LocalOutput::room() const {
  switch (kind_) {
    case EndKind::pipe: {
      // A pipe is a ring of page slots, and poll() says "writable" once one slot is free: one
      // page always fits. More fits only when the pipe is empty (no slot in use); otherwise
      // FIONREAD's byte count says nothing about how many slots the bytes occupy (another
      // writer's small writes, or a partly read page, can take a slot each), and a write
      // larger than the free slots would block.
      int queued = 0;
      if (pipe_size_ > 0 && ioctl(fd_, FIONREAD, &queued) == 0 && queued == 0) return pipe_size_;
      return PIPE_BUF;
    }
    case EndKind::terminal:
      return PIPE_BUF;
    default:
      return SIZE_MAX;
  }
}

LocalOutput::Result LocalOutput::write(const void* data, size_t length, size_t& n,
                                       std::string& error) {
  n = 0;
  if (kind_ == EndKind::closed) return Result::closed;
  size_t chunk = std::min(length, room());
  for (;;) {
    ssize_t put = kind_ == EndKind::socket
                      ? ::send(fd_, data, chunk, MSG_DONTWAIT | MSG_NOSIGNAL)
                      : ::write(fd_, data, chunk);
    if (put >= 0) {
      n = static_cast<size_t>(put);
      return Result::written;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Result::not_ready;
    if (errno == EPIPE || errno == ECONNRESET) return Result::closed;
    error = std::strerror(errno);
    return Result::failed;
  }
}

}  // namespace quicc

#include "event_loop.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>

#include "interrupts.hpp"

namespace quicc {

namespace {

// Whether `deadline`, not OpenSSL, asked for an immediate turn (work left over, or our own
// deadline passed).
bool deadline_is_ours(std::optional<Clock::time_point> deadline) {
  return deadline && *deadline <= Clock::now();
}

int socket_fd(SSL* ssl) {
  BIO_POLL_DESCRIPTOR d{};
  if (!SSL_get_rpoll_descriptor(ssl, &d) || d.type != BIO_POLL_DESCRIPTOR_TYPE_SOCK_FD) return -1;
  return d.value.fd;
}

}  // namespace

int poll_timeout_ms(std::optional<Clock::time_point> deadline) {
  if (!deadline) return -1;
  auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, INT_MAX));
}

void drain_wake_fd(int fd) {
  char buf[64];
  while (fd >= 0 && ::read(fd, buf, sizeof buf) > 0) {
  }
}

unsigned wait_readable(std::initializer_list<int> fds, int interrupt_fd,
                       std::optional<Clock::time_point> deadline) {
  pollfd p[8];
  nfds_t n = 0;
  for (int fd : fds) p[n++] = {fd, POLLIN, 0};
  nfds_t irq = n;
  p[n++] = {interrupt_fd, POLLIN, 0};
  int rc = ::poll(p, n, poll_timeout_ms(deadline));
  unsigned out = 0;
  if (rc <= 0) return rc < 0 && errno == EINTR ? readable_signal : 0;
  for (nfds_t i = 0; i < irq; ++i)
    if (p[i].revents) out |= 1u << i;
  if (p[irq].revents) {
    drain_wake_fd(interrupt_fd);
    out |= readable_signal;
  }
  return out;
}

unsigned EventLoop::wait(const PipeInterest& pipes, std::optional<Clock::time_point> deadline,
                         uint64_t bytes_in, uint64_t bytes_out) {
  pollfd ends[2];
  size_t n = 0;
  int input_slot = -1, output_slot = -1;
  if (pipes.read_fd >= 0) {
    input_slot = static_cast<int>(n);
    ends[n++] = {pipes.read_fd, POLLIN, 0};
  }
  if (pipes.write_fd >= 0) {
    output_slot = static_cast<int>(n);
    ends[n++] = {pipes.write_fd, POLLOUT, 0};
  }
  unsigned wake = wait_ends(std::span<pollfd>(ends, n), deadline, bytes_in, bytes_out);
  if (input_slot >= 0 && ends[input_slot].revents) wake |= wake_input;
  if (output_slot >= 0 && ends[output_slot].revents) wake |= wake_output;
  last_wake_ = wake;
  return wake;
}

unsigned EventLoop::wait_ends(std::span<pollfd> ends, std::optional<Clock::time_point> deadline,
                         uint64_t bytes_in, uint64_t bytes_out) {
  // OpenSSL says when it next needs SSL_handle_events; our own deadline may come first.
  timeval tv{};
  int infinite = 1;
  std::optional<int64_t> timeout_us;
  if (SSL_get_event_timeout(ssl_, &tv, &infinite) && !infinite)
    timeout_us = int64_t{tv.tv_sec} * 1'000'000 + tv.tv_usec;
  if (deadline) {
    auto left = std::chrono::duration_cast<std::chrono::microseconds>(*deadline - Clock::now());
    int64_t left_us = std::max<int64_t>(0, left.count());
    timeout_us = timeout_us ? std::min(*timeout_us, left_us) : left_us;
  }

  bool want_read = SSL_net_read_desired(ssl_);
  bool want_write = SSL_net_write_desired(ssl_);
  if (emitter_.wants_ticks())
    emitter_.emit(TickEvent{last_wake_, timeout_us, want_read, want_write, bytes_in, bytes_out});

  fds_.clear();
  fds_.push_back({socket_fd(ssl_), static_cast<short>((want_read ? POLLIN : 0) | (want_write ? POLLOUT : 0)), 0});
  fds_.insert(fds_.end(), ends.begin(), ends.end());
  size_t interrupt_slot = 0;
  if (interrupt_fd_ >= 0) {
    interrupt_slot = fds_.size();
    fds_.push_back({interrupt_fd_, POLLIN, 0});
  }

  // Round up so that we never wake a hair before OpenSSL's deadline and spin; clamp, as poll()
  // takes an int (a --timeout of weeks would otherwise wrap).
  int timeout_ms = -1;
  if (timeout_us)
    timeout_ms = static_cast<int>(std::min<int64_t>((*timeout_us + 999) / 1000, INT_MAX));
  // OpenSSL 3.5 can report a deadline that is already due and that handling events does not
  // move: seen on a server connection in its closing period, where an ACK deadline stays in
  // the past because nothing is sent while closing. Polling with timeout 0 would then spin
  // until the closing period ends. When the deadline is still due after we handled it, back
  // off (1, 2, 4 ... 16 ms): OpenSSL was not going to act on it anyway.
  if (timeout_ms == 0 && !deadline_is_ours(deadline) && last_wake_ == wake_timeout) {
    stuck_turns_ = std::min(stuck_turns_ + 1, 5);
    timeout_ms = 1 << (stuck_turns_ - 1);
  } else {
    stuck_turns_ = 0;
  }
  int rc = ::poll(fds_.data(), fds_.size(), timeout_ms);

  unsigned wake = wake_none;
  for (auto& e : ends) e.revents = 0;
  if (rc < 0) {
    wake = errno == EINTR ? wake_signal : wake_timeout;
  } else if (rc == 0) {
    wake = wake_timeout;
  } else {
    if (fds_[0].revents & (POLLIN | POLLERR | POLLHUP)) wake |= wake_net_readable;
    if (fds_[0].revents & POLLOUT) wake |= wake_net_writable;
    for (size_t i = 0; i < ends.size(); ++i) ends[i].revents = fds_[i + 1].revents;
    if (interrupt_slot > 0 && fds_[interrupt_slot].revents) {
      wake |= wake_signal;
      drain_wake_fd(interrupt_fd_);
    }
  }
  last_wake_ = wake;
  // Every turn starts with OpenSSL processing what woke us (datagrams, timers), whatever the
  // caller does next: a caller that only polls for, say, a new stream must still see progress.
  SSL_handle_events(ssl_);
  return wake;
}

}  // namespace quicc

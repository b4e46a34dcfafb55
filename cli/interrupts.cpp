#include "interrupts.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

namespace quicc::cli {

namespace {

std::atomic<unsigned> count{0};
std::atomic<int> last_signal{0};
std::atomic<unsigned> status_requests{0};
int write_end = -1;

static_assert(std::atomic<unsigned>::is_always_lock_free && std::atomic<int>::is_always_lock_free,
              "a signal handler may only touch lock-free atomics");

void on_signal(int signal) {
  int saved = errno;
  last_signal = signal;
  if (++count >= 3) {
    // The handler blocks this signal while it runs: it is delivered, with its default action,
    // as soon as the handler returns.
    std::signal(signal, SIG_DFL);
    std::raise(signal);
  }
  char c = 1;
  [[maybe_unused]] ssize_t n = ::write(write_end, &c, 1);
  errno = saved;
}

void on_status_request(int) {
  int saved = errno;
  ++status_requests;
  char c = 1;
  [[maybe_unused]] ssize_t n = ::write(write_end, &c, 1);
  errno = saved;
}

}  // namespace

InterruptSource install_interrupt_handlers() {
  InterruptSource source;
  source.count = &count;
  source.last_signal = &last_signal;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0) {
    write_end = fds[1];
    source.wake_fd = fds[0];
    source.wake_write_fd = fds[1];
  }
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int signal : {SIGINT, SIGTERM, SIGHUP}) sigaction(signal, &sa, nullptr);
  source.status = &status_requests;
  sa.sa_handler = on_status_request;
  sigaction(SIGUSR1, &sa, nullptr);
  return source;
}

}  // namespace quicc::cli

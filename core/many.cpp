#include "many.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <list>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "blocking.hpp"
#include "engine.hpp"
#include "event_loop.hpp"
#include "local_io.hpp"
#include "net.hpp"
#include "session.hpp"

namespace quicc {

namespace {

// The whole input (stdin's, or --send's and --send-file's in order), read once; an interrupt
// ends the wait. A terminal gives nothing: a count of connections is not an interactive session.
Outcome read_input(const Config& config, InterruptWatch& interrupts, std::string& data) {
  LocalInput input(config.input_fd, config.send);
  if (input.kind() == EndKind::terminal || input.kind() == EndKind::closed) return {};
  std::vector<unsigned char> buffer(64 * 1024);
  for (;;) {
    if (!input.always_ready()) {
      unsigned woke = wait_readable({input.fd()}, interrupts.wake_fd(), std::nullopt);
      if (interrupts.take_new() > 0) return interrupted_outcome(interrupts.signal());
      if (!(woke & 1u)) continue;
    }
    size_t n = 0;
    std::string error;
    switch (input.read(buffer.data(), buffer.size(), n, error)) {
      case LocalInput::Result::data:
        if (data.size() + n > many_input_limit)
          return {Status::usage, "with --count the input is sent on every connection and must "
                                 "fit in " + std::to_string(many_input_limit >> 20) + " MiB"};
        data.append(reinterpret_cast<const char*>(buffer.data()), n);
        break;
      case LocalInput::Result::eof:
        return {};
      case LocalInput::Result::not_ready:
        break;
      case LocalInput::Result::failed:
        return {Status::io_error, "cannot read input: " + error};
    }
  }
}

// A copy of `data` to read from the start: a memory file, always ready like a regular one.
UniqueFd input_copy(const std::string& data, std::string& error) {
  UniqueFd fd(::memfd_create("quicc-input", MFD_CLOEXEC));
  if (fd.get() < 0) {
    error = std::string("cannot make a connection's input: ") + std::strerror(errno);
    return {};
  }
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd.get(), data.data() + off, data.size() - off);
    if (n <= 0) {
      error = std::string("cannot make a connection's input: ") + std::strerror(errno);
      return {};
    }
    off += static_cast<size_t>(n);
  }
  ::lseek(fd.get(), 0, SEEK_SET);
  return fd;
}

struct Running {
  uint64_t number = 0;
  Config config;
  UniqueFd input;
  std::atomic<unsigned> count{0};
  std::atomic<int> signal{0};
  std::atomic<bool> over{false};
  Notifier wake;
  std::thread thread;

  void interrupt(int sig) {
    signal = sig;
    ++count;
    wake.notify();
  }
};

}  // namespace

Outcome run_many(const Config& config, const ManyPlan& plan, ManyObserver& observer) {
  InterruptWatch interrupts(config.interrupts);
  std::string input;
  if (Outcome o = read_input(config, interrupts, input); !o.ok()) return o;
  UniqueFd discard(::open("/dev/null", O_WRONLY | O_CLOEXEC));
  if (discard.get() < 0)
    return {Status::io_error, std::string("cannot open /dev/null: ") + std::strerror(errno)};

  Notifier done;  // a connection's thread is over
  std::list<std::unique_ptr<Running>> running;
  uint64_t next = 1;
  auto next_start = Clock::now();
  Outcome stopped;
  for (;;) {
    // Finished connections first: their slots are free again.
    for (auto it = running.begin(); it != running.end();) {
      if (!(*it)->over) {
        ++it;
        continue;
      }
      (*it)->thread.join();
      it = running.erase(it);
    }
    auto now = Clock::now();
    while (stopped.ok() && next <= plan.count && running.size() < plan.parallel &&
           now >= next_start) {
      auto r = std::make_unique<Running>();
      r->number = next;
      std::string error;
      r->input = input_copy(input, error);
      if (r->input.get() < 0) {
        stopped = {Status::io_error, error};
        break;
      }
      r->config = config;
      r->config.input_fd = r->input.get();
      r->config.send.clear();  // in `input` already
      r->config.output_fd = discard.get();
      r->config.interrupts = InterruptSource{&r->count, &r->signal, r->wake.fd()};
      Running* raw = r.get();
      r->thread = std::thread([raw, &observer, &done] {
        Outcome o = run(raw->config, observer.sink(raw->number));
        observer.finished(raw->number, o);
        raw->over = true;
        done.notify();
      });
      running.push_back(std::move(r));
      ++next;
      next_start = now + plan.interval;
    }
    if (running.empty() && (next > plan.count || !stopped.ok())) return stopped;

    std::optional<Clock::time_point> deadline;
    if (stopped.ok() && next <= plan.count && running.size() < plan.parallel)
      deadline = next_start;
    unsigned woke = wait_readable({done.fd()}, interrupts.wake_fd(), deadline);
    if (woke & 1u) done.drain();
    if (unsigned n = interrupts.take_new(); n > 0) {
      for (auto& r : running)
        for (unsigned i = 0; i < n; ++i) r->interrupt(interrupts.signal());
      if (stopped.ok()) stopped = interrupted_outcome(interrupts.signal());
    }
  }
}

}  // namespace quicc

// Pieces the blocking driver's files share: a wake-up pipe between threads, and a group of
// worker threads that can be joined with a time limit.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <list>
#include <mutex>
#include <thread>

namespace quicc {

// A self-pipe: any thread notifies, one waiter polls fd() and drains it.
class Notifier {
 public:
  Notifier();
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;
  void notify();
  int fd() const { return fds_[0]; }
  void drain();

 private:
  int fds_[2] = {-1, -1};
};

// Waits until `fd` is ready for `events` (poll()) or `stop` is readable; false when told to
// stop. A worker waits so on a local end, never inside a write that could block for good.
bool wait_ready(int fd, short events, int stop);

// How long a run waits for its threads to leave OpenSSL once the connection is over (they are
// woken every 20 ms meanwhile). They take milliseconds; the limit is for a thread stuck for
// good, and generous for slow machines and sanitizer builds. One left behind is detached and
// what it uses leaked (threads_left_behind()).
inline constexpr std::chrono::seconds worker_join_limit{5};

// Worker threads that end by themselves once told to stop (or once OpenSSL returns to them).
class Workers {
 public:
  ~Workers();
  void start(std::function<void()> body);
  // Joins every worker; `wake` is called every 20 ms while some are still running (to poke
  // threads blocked inside OpenSSL), up to `limit`. False if some did not end in time: they
  // are detached then, and whatever they use must stay alive (the caller leaks it on purpose).
  bool join(std::chrono::milliseconds limit, const std::function<void()>& wake);
  int running() const { return running_; }

 private:
  std::mutex mutex_;
  std::condition_variable ended_;
  std::list<std::thread> threads_;
  std::atomic<int> running_{0};
};

}  // namespace quicc

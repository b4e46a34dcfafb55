// --count N with --parallel K and --interval D: N client connections of one configuration in
// one process, at most K at once, one started every D. Each is a whole client run (resolve,
// handshake, pipe, close: run() itself) on a thread of its own, with:
//   - the same input: what the configuration's input holds is read once (at most
//     many_input_limit bytes) and each connection reads its own copy from the start;
//   - no output: what a connection receives is discarded (its figures and --expect judge it);
//   - an interrupt source of its own, fed from the run's: an interrupt stops the starts and
//     reaches every running connection once (a second one closes them rapidly, as for one);
//   - its own --timeout, --connect-timeout and --idle-exit, counted from its own start.
#pragma once

#include <chrono>
#include <cstdint>

#include "config.hpp"
#include "events.hpp"
#include "status.hpp"

namespace quicc {

struct ManyPlan {
  uint64_t count = 1;                     // --count: connections in all
  unsigned parallel = 1;                  // --parallel: at most this many at once
  std::chrono::milliseconds interval{0};  // --interval: between two starts
};

inline constexpr size_t many_input_limit = 16 * 1024 * 1024;

// What run_many reports, from the connections' threads (each call for one connection at a
// time, but calls for different connections may run at once).
class ManyObserver {
 public:
  virtual ~ManyObserver() = default;
  // Where connection `n` (1..count) sends its events; it stays valid until finished(n).
  virtual EventSink& sink(uint64_t n) = 0;
  virtual void finished(uint64_t n, const Outcome& outcome) = 0;
};

// Runs the plan; returns once every started connection is over. Its own outcome: interrupted
// (connections after the interrupt were not started), a failure to read the input or to set up
// a connection, or ok: the connections' outcomes went to the observer.
Outcome run_many(const Config& config, const ManyPlan& plan, ManyObserver& observer);

}  // namespace quicc

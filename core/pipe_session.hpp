// One connection's pipe under the non-blocking driver, a turn at a time: pipe_nonblocking runs
// one until it is over; the pipe listener with --keep-open (relay_listener.cpp) runs one per
// client in the same poll() loop. Each turn takes what happened since the last one to the
// TransferPolicy and carries out its answer through the PipePump.
#pragma once

#include <optional>

#include "connection.hpp"
#include "console.hpp"
#include "drivers.hpp"
#include "event_loop.hpp"
#include "pipe_pump.hpp"
#include "transfer_policy.hpp"

namespace quicc {

class PipeSession {
 public:
  PipeSession(Connection& conn, RunContext& run, const PipeOptions& options);

  // One turn; `wake` says what poll() found ready. False once the pipe is over (the
  // connection's end is reported); outcome() then says how it ended.
  bool turn(unsigned wake);
  // What the next wait must watch and when it must return at the latest.
  PipeInterest interest() const { return interest_; }
  std::optional<Clock::time_point> deadline() const { return deadline_; }
  uint64_t take_turn_in() { return pump_.take_turn_in(); }
  uint64_t take_turn_out() { return pump_.take_turn_out(); }
  // With --expect judged (core/expect.hpp).
  Outcome outcome() { return pump_.judged(policy_.outcome()); }

 private:
  Connection& conn_;
  RunContext& run_;
  PipeOptions options_;
  TransferPolicy policy_;
  PipePump pump_;
  Console console_;
  std::optional<CloseRequest> closing_;  // our close, once the policy asked for it
  bool close_done_ = false;
  bool closed_seen_ = false;
  TransferMeter meter_;
  std::optional<Clock::time_point> meter_due_;
  PipeInterest interest_;
  std::optional<Clock::time_point> deadline_;
};

}  // namespace quicc

// What a terminal session (--interactive) adds to a pipe, the same under both drivers and in
// both roles: the banner once connected, a note when the peer finishes, resets or closes, and
// the escape commands typed at the terminal (terminal.hpp), carried out at the start of each
// of the driver's turns: ~f ~r ~. ~k ~c through the TransferPolicy, ~i and ~l answered here.
// Without --interactive it does nothing.
#pragma once

#include <deque>
#include <optional>

#include "close_info.hpp"
#include "connection.hpp"
#include "pipe_streams.hpp"
#include "session.hpp"
#include "transfer_policy.hpp"

namespace quicc {

// The pipe's streams as ~l shows them: the one we send on and the one the peer's data comes on
// (the same stream, unless both sides opened one).
struct PipeStreamIds {
  std::optional<uint64_t> send;
  std::optional<uint64_t> receive;
  bool send_ours = true;
};

PipeStreamIds stream_ids(const PipeStreams& streams);

class Console {
 public:
  Console(RunContext& run, Connection& conn);

  bool on() const { return on_; }
  // Start of a turn: commands typed since the last one, and what changed in `facts`.
  // `started`: when the pipe began (for ~i's rates).
  void turn(TransferPolicy& policy, const PipeFacts& facts, const PipeStreamIds& ids,
            Clock::time_point started, Clock::time_point now);
  // The connection closed without us asking.
  void closed(const CloseInfo& info);
  // The pipe is over: the peer's close, if it closed, is told now, after its data.
  void finished();

 private:
  void note(std::string text);
  std::string info_text(const PipeFacts& facts, Clock::time_point started,
                        Clock::time_point now) const;
  std::string list_text(const PipeFacts& facts, const PipeStreamIds& ids) const;

  // Carries out `command`, or false if it must wait for the data typed before it.
  bool carry_out(const UserCommand& command, TransferPolicy& policy, const PipeFacts& facts,
                 const PipeStreamIds& ids, Clock::time_point started, Clock::time_point now);

  RunContext& run_;
  std::deque<UserCommand> held_;
  Connection& conn_;
  bool on_;
  bool banner_shown_ = false;
  bool fin_told_ = false;
  bool reset_told_ = false;
  std::optional<CloseInfo> peer_close_;
};

}  // namespace quicc

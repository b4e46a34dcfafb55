// What a terminal session (--interactive) adds to a pipe, the same under both drivers and in
// both roles: the banner once connected, a note when the peer finishes, resets or closes, and
// the escape commands typed at the terminal (terminal.hpp), carried out at the start of each
// of the driver's turns: ~f ~r ~. ~k ~c through the TransferPolicy, ~i and ~l answered here.
// ~n and ~u open streams of our own beside the pipe's, and ~s chooses the one typed lines go
// to: the Console writes those lines itself (they are not the pipe's data: they change none of
// its facts, its outcome or its exit code), and the driver reads the peer's half of a ~n
// stream as it reads the peer's extra streams (labelled lines on the terminal).
// Without --interactive it does nothing.
#pragma once

#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "close_info.hpp"
#include "commands.hpp"
#include "connection.hpp"
#include "pipe_streams.hpp"
#include "session.hpp"
#include "transfer_policy.hpp"

namespace quicc {

// How soon a driver turns again while the Console waits (Console::wants_turn).
inline constexpr std::chrono::milliseconds console_retry{20};

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
  // `watch`: the driver reads the peer's half of a bidirectional stream opened by ~n.
  Console(RunContext& run, Connection& conn, std::function<void(SSL*)> watch);

  bool on() const { return on_; }
  // Lines for a stream of ~n or ~u wait for room in it, or a command waits for the data typed
  // before it: the driver turns again soon (console_retry).
  bool wants_turn() const;
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
  std::vector<std::string> list_lines(const PipeFacts& facts, const PipeStreamIds& ids) const;
  std::string pipe_text(const PipeFacts& facts, const PipeStreamIds& ids) const;

  // Carries out `command`, or false if it must wait for the data typed before it.
  bool carry_out(const UserCommand& command, TransferPolicy& policy, const PipeFacts& facts,
                 const PipeStreamIds& ids, Clock::time_point started, Clock::time_point now);

  // A stream opened by ~n or ~u.
  struct OwnStream {
    SSL* stream;
    uint64_t id;
    bool uni;
    std::string pending;  // typed, not yet taken by the stream
    uint64_t sent = 0;
    bool fin_wanted = false;
    bool fin_sent = false;
    bool reset_sent = false;
    bool ended() const { return fin_wanted || fin_sent || reset_sent; }
  };
  // `sent`: the pipe's bytes sent so far.
  StreamChoice open_stream(bool uni, const PipeStreamIds& ids, uint64_t sent, bool over);
  StreamChoice use_stream(const UserCommand& command, const PipeStreamIds& ids);
  void end_own(OwnStream& own, const UserCommand& command);
  // Gives the stream what it has room for, then its FIN when asked for and all is taken.
  void flush(OwnStream& own);
  std::string own_text(const OwnStream& own) const;

  RunContext& run_;
  std::deque<UserCommand> held_;
  Connection& conn_;
  bool on_;
  bool banner_shown_ = false;
  bool fin_told_ = false;
  bool reset_told_ = false;
  std::optional<CloseInfo> peer_close_;
  std::function<void(SSL*)> watch_;
  std::vector<OwnStream> own_;
  std::optional<size_t> current_;  // the stream typed lines go to: own_[*current_], or the pipe's
  std::optional<Clock::time_point> front_held_since_;  // held_.front() waits since then
};

}  // namespace quicc

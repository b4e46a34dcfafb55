// Pipe mode's I/O under the non-blocking driver: moves bytes between the local ends and the
// pipe stream(s) without ever blocking, carries out the TransferPolicy's stream actions and
// counts what happened as PipeFacts. It decides nothing itself. Backpressure is by omission:
// input is not read while the previous chunk waits for room in the stream, and the stream is
// not read while the previous chunk waits for the output.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <utility>
#include <vector>

#include "config.hpp"
#include "connection.hpp"
#include "event_loop.hpp"
#include "expect.hpp"
#include "extra_streams.hpp"
#include "local_io.hpp"
#include "pipe_streams.hpp"
#include "stream_writer.hpp"
#include "transfer_policy.hpp"

namespace quicc {

class PipePump {
 public:
  PipePump(Connection& conn, const Config& config);

  // Gives the streams the peer opened their part in the pipe (see pipe_streams.hpp).
  void accept_streams();
  // A bidirectional stream a person opened with ~n (console.hpp): the peer's half is read as
  // an accepted extra stream's is.
  void watch_own(SSL* stream);
  // Moves what `step` allows; `wake` says which local ends poll() found ready. True when
  // anything changed (bytes moved, an end reached EOF, a stream finished).
  bool pump(const Step& step, unsigned wake);
  // The step's stream actions: FIN, reset, stop reading, key update. True when that changed
  // something (a frame is queued for OpenSSL to send: the loop must turn at once).
  bool apply(const Step& step, TransferPolicy& policy);

  const PipeStreams& streams() const { return streams_; }
  // The facts so far (refreshes what OpenSSL counts, such as unacknowledged bytes).
  const PipeFacts& facts();
  PipeInterest interest(const Step& step) const;
  // Work is left that needs no waiting (a turn's budget ran out).
  bool busy() const { return busy_; }
  Transferred moved() const { return {facts_.written, facts_.sent, facts_.unacked}; }
  uint64_t take_turn_in() { return std::exchange(turn_in_, 0); }
  uint64_t take_turn_out() { return std::exchange(turn_out_, 0); }
  // The run's outcome with --expect judged (core/expect.hpp).
  Outcome judged(const Outcome& run) { return expect_.verdict(run); }

 private:
  bool receive(const Step& step);
  bool send(const Step& step);
  // The stream to send on, opened when there is none yet (null at the peer's stream limit).
  SSL* send_stream();
  bool finish_sending();  // a FIN or reset the policy asked for, once a stream takes it
  void read_failed(SSL* stream);
  void write_failed(SSL* stream);
  void watch_own_receive();
  // Reads the accepted extra streams (--peer-streams accept) as far as they have data.
  bool read_extras();

  Connection& conn_;
  const Config& config_;
  Emitter& emitter_;
  LocalInput input_;
  LocalOutput output_;
  Expectations expect_;
  const bool stop_at_match_;  // --expect without --expect-close
  PipeStreams streams_;
  ExtraStreamRules extra_rules_;
  struct Extra {
    SSL* stream;
    std::unique_ptr<ExtraStreamReader> reader;
    bool ours = false;  // opened by ~n: our half is the Console's
  };
  std::vector<Extra> extras_;
  std::vector<unsigned char> extra_buffer_;

  StreamWriter to_stream_;
  std::vector<unsigned char> out_buffer_;
  size_t out_offset_ = 0;
  size_t out_length_ = 0;

  bool input_waits_;          // the input must be polled before the next read
  bool output_waits_ = false;  // the output must be polled before the next write
  bool fin_pending_ = false;
  std::optional<uint64_t> reset_pending_;
  bool busy_ = false;
  PipeFacts facts_;
  uint64_t turn_in_ = 0, turn_out_ = 0;
};

}  // namespace quicc

// The pipe listener with --keep-open (ncat -l -k): what the input gives goes to every client
// connected at the time, what any client sends goes to the output. Each client's pipe (the very
// pipe of a single connection, under either driver) reads and writes a pair of pipes of its own
// as if they were stdin and stdout; the relay copies between those and the real ends, on the
// listener's thread, with poll() saying when.
//
// - The input is read only while a client is connected, its handshake complete (nothing is
//   read to be thrown away: a client that fails its handshake takes nothing with it),
//   a chunk at a time, the next once every client took the last: the slowest client sets the
//   pace, as in ncat. At its EOF every client's input ends, and its pipe does what --on-eof
//   says; a client that comes later finds its input at EOF.
// - The output is copied a chunk at a time from one client's pipe, so chunks of different
//   clients interleave but a chunk is never split by another's. While the output is stalled,
//   nothing is read from the clients' pipes: they fill, and QUIC's flow control holds the
//   clients back.
// - A client whose pipe is over: what it wrote is copied to the end, then its pipes close.
// - An output whose reader went away: every client's output pipe closes too, so each pipe
//   ends as a single one would (output closed), and failure() says so.
#pragma once

#include <poll.h>

#include <cstdint>
#include <list>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "events.hpp"
#include "local_io.hpp"
#include "net.hpp"
#include "status.hpp"

namespace quicc {

class Relay {
 public:
  Relay(int input_fd, int output_fd, Emitter& emitter);

  // A new client: `input` and `output` get the descriptors its pipe is to use as its input
  // and output (they stay the relay's). False, with `error`, if no pipe could be made. It gets
  // no input until it joins.
  bool add(uint64_t id, int& input, int& output, std::string& error);
  // The client completed its handshake: it gets the input from the next chunk on. Until then
  // no input is read (clients that connect together all get it from its start), and a client
  // whose handshake fails takes nothing with it.
  void join(uint64_t id);
  // The client's pipe is over and no longer uses its descriptors: its input is dropped, its
  // output copied to its end.
  void finished(uint64_t id);

  // Appends to `fds` what poll() must watch for the relay; handle() takes the same vector
  // back after poll() and moves what is ready. handle() returns the bytes it moved.
  void interest(std::vector<pollfd>& fds);
  uint64_t handle(const std::vector<pollfd>& fds);

  // Work is left that needs no poll() (an input or output that is always ready).
  bool busy() const;
  // No client left, and nothing of theirs still to copy.
  bool empty() const { return clients_.empty(); }
  // The output failed or its reader went away: the run's outcome.
  const std::optional<Outcome>& failure() const { return failure_; }

 private:
  struct Client {
    uint64_t id;
    UniqueFd input_read, input_write;    // the pipe's input: it reads, we write
    UniqueFd output_read, output_write;  // the pipe's output: it writes, we read
    size_t offset = 0;                   // how much of the current chunk it took
    bool joined = false;                 // its handshake completed: it gets the input
    bool over = false;                   // finished(): its pipe uses nothing any more
    bool output_eof = false;
    size_t input_slot = SIZE_MAX, output_slot = SIZE_MAX;
  };

  bool read_input();
  void write_inputs(uint64_t& moved);
  void read_outputs(const std::vector<pollfd>& fds, uint64_t& moved);
  bool write_output(uint64_t& moved);
  void close_outputs();
  void end_input(Client& c);
  bool wants_input() const;

  LocalInput input_;
  LocalOutput output_;
  Emitter& emitter_;
  std::list<Client> clients_;
  std::vector<unsigned char> chunk_;
  size_t chunk_length_ = 0;
  bool input_eof_ = false;
  std::vector<unsigned char> out_;
  size_t out_offset_ = 0;
  size_t out_length_ = 0;
  uint64_t next_reader_ = 0;  // the client whose output is read first next time (fairness)
  bool output_gone_ = false;
  std::optional<Outcome> failure_;
  size_t input_slot_ = SIZE_MAX, output_slot_ = SIZE_MAX;
};

}  // namespace quicc

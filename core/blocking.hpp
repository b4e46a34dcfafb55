// The blocking driver: OpenSSL's own blocking mode (block_until_pred inside the library) in a
// thread-assisted domain, so that timers run while our threads sit in read() or write().
// Full duplex takes two threads per stream: one blocks reading the input and writing the
// stream, the other blocks reading the stream and writing the output.
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <thread>

#include "config.hpp"
#include "event_loop.hpp"
#include "session.hpp"
#include "ssl_ptr.hpp"
#include "events.hpp"
#include "status.hpp"
#include "tls.hpp"

namespace quicc {

// SSL_connect / SSL_do_handshake in blocking mode, cut short at config.connect_timeout by a
// watchdog that closes the connection.
Outcome blocking_handshake(SSL* conn, const Config& config, const TlsContext* tls);

// Pipes config's input/output over `stream`: this thread blocks reading the input and writing
// the stream, a second thread blocks reading the stream and writing the output. run() returns
// when the transfer is over as the EOF policy defines it, or at a deadline, an interrupt or a
// failure; the reader thread may still be blocked then, and join() waits for it once the
// connection is closed (OpenSSL wakes blocked threads when the connection terminates).
class BlockingPipe {
 public:
  // `wake_socket`: the client's own UDP socket, which join() may shut for reading to wake the
  // reader (see join()); -1 for a listener's shared socket.
  BlockingPipe(SSL* conn, SSL* stream, const Config& config, Emitter& emitter, int wake_socket);
  ~BlockingPipe();
  BlockingPipe(const BlockingPipe&) = delete;
  BlockingPipe& operator=(const BlockingPipe&) = delete;

  Outcome run(Clock::time_point started);
  void join();
  Transferred moved() const { return {in_, out_}; }

 private:
  void read_stream();
  bool end_input(Outcome& outcome);
  Outcome transfer(Clock::time_point started);
  // During run(), interrupts are taken by a watcher thread: this thread may be blocked in
  // SSL_write (a peer that stopped reading), where it would never see one. The first interrupt
  // starts the close (code close_code_interrupted) so that the blocked write fails; a second
  // one closes rapidly and wakes the writer (see join()), or ends a listener (exit_now).
  void watch_interrupts();

  SSL* conn_;
  SSL* stream_;
  const Config& config_;
  Emitter& emitter_;
  int wake_socket_;
  std::atomic<uint64_t> in_{0}, out_{0};
  std::atomic<int64_t> last_activity_ns_;
  std::atomic<bool> reader_done_{false};
  std::atomic<bool> stopping_{false};
  Outcome read_outcome_;
  int done_pipe_[2] = {-1, -1};   // the reader or the watcher writes a byte here to wake run()
  int watch_stop_[2] = {-1, -1};  // ends the watcher
  std::atomic<int> interrupts_{0};
  std::thread reader_;
};

// `--listen --echo` with blocking calls: a thread per connection and per stream.
Outcome blocking_serve_echo(SSL* listener, const Config& config, Emitter& emitter);

}  // namespace quicc

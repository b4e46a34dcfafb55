// The blocking driver: OpenSSL's own blocking mode in a thread-assisted domain (timers run while
// our threads sit in poll() or inside OpenSSL). Worker threads make the blocking calls: one
// completes the handshake; in pipe mode one accepts the peer's streams, one reads the input and
// writes the stream, one per receiving stream reads it and writes the output. The calling
// thread is the control thread: it alone waits for interrupts and deadlines, asks the
// TransferPolicy what to do, and carries it out. Workers only report facts and never decide.
//
// Local ends are never blocking points: workers poll() them together with a stop pipe, so a
// stalled reader of our output or a silent input never holds a thread the control thread
// cannot stop. Threads blocked inside OpenSSL are woken by the connection's close (Waker).
#include "blocking.hpp"

#include <openssl/err.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <vector>

#include "drivers.hpp"
#include "event_loop.hpp"
#include "console.hpp"
#include "expect.hpp"
#include "extra_streams.hpp"
#include "local_io.hpp"
#include "pipe_streams.hpp"
#include "stream_writer.hpp"

namespace quicc {

// --- Notifier, Workers, Waker ---------------------------------------------------------------

Notifier::Notifier() {
  if (::pipe2(fds_, O_CLOEXEC | O_NONBLOCK) != 0) fds_[0] = fds_[1] = -1;
}

Notifier::~Notifier() {
  for (int fd : fds_)
    if (fd >= 0) ::close(fd);
}

void Notifier::notify() {
  char c = 1;
  [[maybe_unused]] ssize_t n = ::write(fds_[1], &c, 1);
}

void Notifier::drain() { drain_wake_fd(fds_[0]); }

Workers::~Workers() {
  for (auto& t : threads_)
    if (t.joinable()) t.detach();
}

void Workers::start(std::function<void()> body) {
  ++running_;
  std::lock_guard lock(mutex_);
  threads_.emplace_back([this, body = std::move(body)] {
    body();
    std::lock_guard lock(mutex_);
    --running_;
    ended_.notify_all();
  });
}

bool Workers::join(std::chrono::milliseconds limit, const std::function<void()>& wake) {
  auto deadline = Clock::now() + limit;
  {
    std::unique_lock lock(mutex_);
    while (running_ > 0 && Clock::now() < deadline) {
      lock.unlock();
      wake();
      lock.lock();
      ended_.wait_for(lock, std::chrono::milliseconds(20), [this] { return running_ == 0; });
    }
  }
  std::list<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    threads.swap(threads_);
  }
  bool all = running_ == 0;
  for (auto& t : threads) {
    if (all) t.join();
    else t.detach();
  }
  return all;
}

Waker::Waker(int own_socket, int listener_socket) : own_socket_(own_socket) {
  if (listener_socket < 0) return;
  target_length_ = sizeof target_;
  if (::getsockname(listener_socket, reinterpret_cast<sockaddr*>(&target_), &target_length_) != 0)
    return;
  // A wildcard address is reached through loopback.
  if (target_.ss_family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&target_);
    if (sin->sin_addr.s_addr == htonl(INADDR_ANY)) sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  } else if (target_.ss_family == AF_INET6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&target_);
    if (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr)) sin6->sin6_addr = in6addr_loopback;
  }
  poke_socket_ = ::socket(target_.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
}

Waker::~Waker() {
  if (poke_socket_ >= 0) ::close(poke_socket_);
}

void Waker::wake() {
  // Threads blocked in OpenSSL poll() the UDP socket: make it readable. Shutting the reading
  // side of the client's own socket makes it readable for good (its connection is over). A
  // listener's socket serves other connections too, so it gets a one-byte datagram, which
  // OpenSSL drops as no QUIC packet.
  if (own_socket_ >= 0) ::shutdown(own_socket_, SHUT_RD);
  if (poke_socket_ >= 0) {
    char c = 0;
    [[maybe_unused]] ssize_t n = ::sendto(poke_socket_, &c, 1, 0,
                                          reinterpret_cast<sockaddr*>(&target_), target_length_);
  }
}

namespace {

std::optional<int64_t> event_timeout_us(SSL* ssl) {
  timeval tv{};
  int infinite = 1;
  if (SSL_get_event_timeout(ssl, &tv, &infinite) && !infinite)
    return int64_t{tv.tv_sec} * 1'000'000 + tv.tv_usec;
  return std::nullopt;
}

// In the blocking driver a "turn" is one blocking call returning; its tick says which.
void tick(Emitter& emitter, SSL* conn, unsigned wake, uint64_t in, uint64_t out) {
  if (!emitter.wants_ticks()) return;
  emitter.emit(TickEvent{wake, event_timeout_us(conn), SSL_net_read_desired(conn) == 1,
                         SSL_net_write_desired(conn) == 1, in, out});
}

}  // namespace

bool wait_ready(int fd, short events, int stop) {
  for (;;) {
    pollfd p[2] = {{fd, events, 0}, {stop, POLLIN, 0}};
    int rc = ::poll(p, 2, -1);
    if (rc < 0 && errno == EINTR) continue;
    if (p[1].revents) return false;
    if (rc > 0) return true;
  }
}

// --- Handshake ----------------------------------------------------------------------------------

Outcome handshake_blocking(Connection& conn, RunContext& run, const HandshakeLimits& limits,
                           const TlsContext* tls, Waker& waker) {
  // The error queue is per thread: the worker describes its own failure.
  Notifier done;
  std::atomic<bool> finished{false};
  Outcome result;
  std::thread worker([&] {
    ERR_clear_error();
    if (SSL_do_handshake(conn.ssl()) != 1) result = describe_handshake_failure(conn.ssl(), tls);
    finished = true;
    done.notify();
  });
  auto run_deadline = run.run_deadline();
  std::optional<Outcome> stopped;
  while (!finished) {
    unsigned woke =
        wait_readable({done.fd()}, run.interrupts.wake_fd(), earliest(limits.deadline, run_deadline));
    if (finished) break;
    auto now = Clock::now();
    if ((woke & readable_signal) && run.interrupts.take_new() > 0)
      stopped = interrupted_outcome(run.interrupts.signal());
    else if (run_deadline && now >= *run_deadline)
      stopped = timeout_outcome(run.config);
    else if (now >= limits.deadline)
      stopped = handshake_timeout_outcome(run.config, limits.next_address_after);
    if (stopped) {
      // Closing the connection ends the blocked call once its thread is woken.
      conn.abort();
      while (!finished) {
        waker.wake();
        wait_readable({done.fd()}, -1, Clock::now() + std::chrono::milliseconds(20));
      }
      break;
    }
  }
  worker.join();
  // A handshake that completed is kept even if the deadline passed meanwhile: the deadline
  // is checked only while it is still running.
  if (stopped && !(result.ok() && !conn.closed())) {
    ERR_clear_error();
    return *stopped;
  }
  return result;
}

// --- Pipe mode ----------------------------------------------------------------------------------

namespace {

class BlockingPipe {
 public:
  BlockingPipe(Connection& conn, RunContext& run, const PipeOptions& options, Waker& waker)
      : conn_(conn),
        run_(run),
        config_(run.config),
        emitter_(run.emitter),
        options_(options),
        waker_(waker),
        input_(config_.input_fd, config_.send),
        output_(config_.output_fd),
        stop_at_match_(!config_.expect.empty() && !config_.expect_close),
        extra_rules_(config_.peer_streams, config_.peer_stream_reject_code),
        expect_(config_.expect) {
    facts_.last_activity = Clock::now();
    if (config_.crlf) input_.send_crlf();
  }

  Outcome run();

 private:
  void accept_loop();
  void send_loop();
  void receive_loop(SSL* s);
  // An accepted extra stream (--peer-streams accept), read to its end by a worker of its
  // own; it alone reads the stream. `ours`: a stream opened by ~n, whose sending half the
  // Console writes.
  void extra_loop(SSL* s, bool ours = false);
  void start_receiver(SSL* s);  // with mutex_ held
  void adopt_locked(SSL* s);    // a stream the peer opened: its part in the pipe
  SSL* send_stream_locked(std::string& error);
  void read_failed_locked(SSL* s);
  void write_failed_locked(SSL* s);
  PipeFacts snapshot();
  // Carries out the step's stream actions; true when that changed the facts (decide again).
  bool apply(const Step& step, TransferPolicy& policy);
  void finish_sending_locked();
  void free_unused_locked();
  // Bytes moved: the control thread hears of it at most every 20 ms (it reads the counts when
  // it decides; a wake-up per chunk would cost more than the transfer). Changes of state
  // (EOF, FIN, failures) notify at once.
  // A move not told is still seen: while the last notification is less than 20 ms old, the
  // control thread looks again once those 20 ms are over (quiet_until), so the last chunk of a
  // transfer does not wait for an unrelated event.
  void progress() {
    int64_t now = Clock::now().time_since_epoch().count();
    int64_t last = last_progress_ns_;
    if (now - last < std::chrono::nanoseconds(progress_every).count()) return;
    last_progress_ns_ = now;
    notify_.notify();
  }
  Clock::time_point quiet_until() const {
    return Clock::time_point(Clock::duration(last_progress_ns_.load())) + progress_every;
  }
  void release(SSL* s) {
    std::lock_guard lock(mutex_);
    --users_[s];
    notify_.notify();
  }

  Connection& conn_;
  RunContext& run_;
  const Config& config_;
  Emitter& emitter_;
  PipeOptions options_;
  Waker& waker_;
  LocalInput input_;
  LocalOutput output_;
  const bool stop_at_match_;  // --expect without --expect-close
  const ExtraStreamRules extra_rules_;

  std::mutex mutex_;  // guards everything below
  PipeFacts facts_;
  Expectations expect_;  // fed by the receiver of the pipe's data, judged at the end
  PipeStreams streams_;
  std::map<SSL*, int> users_;  // worker threads using each stream
  std::vector<SSL*> to_free_;  // stop_reading: freed once no worker uses them
  bool fin_pending_ = false;
  std::optional<uint64_t> reset_pending_;

  std::atomic<int64_t> last_progress_ns_{0};
  static constexpr std::chrono::milliseconds progress_every{20};
  Notifier notify_;     // workers -> control thread
  Notifier stop_send_;  // control -> sender: read no more input (never drained)
  Notifier stop_all_;   // control -> every worker waiting on a local end (never drained)
  Workers workers_;
};

SSL* BlockingPipe::send_stream_locked(std::string& error) {
  if (SSL* s = streams_.send()) return s;
  SSL* s = conn_.open_stream(false, error);
  // A connection that is closing refuses new streams: its end is reported by its owner.
  if (!s && conn_.closed()) error.clear();
  if (!s) return nullptr;
  apply_write_mode(s, config_);
  streams_.opened(s);
  facts_.stream_open = true;
  start_receiver(s);
  return s;
}

void BlockingPipe::start_receiver(SSL* s) {
  ++users_[s];
  workers_.start([this, s] { receive_loop(s); });
}

void BlockingPipe::adopt_locked(SSL* s) {
  // A unidirectional stream (e.g. HTTP/3 control) is never part of the pipe.
  switch (stream_is_bidi(s) ? streams_.peer_opened(s) : PipeStreams::Use::extra) {
    case PipeStreams::Use::pipe:
      apply_write_mode(s, config_);
      facts_.stream_open = true;
      start_receiver(s);
      break;
    case PipeStreams::Use::receive_only: {
      SSL_STREAM_RESET_ARGS args{stream_code_crossed};
      if (SSL_stream_reset(s, &args, sizeof args) == 1)
        emitter_.emit(StreamEvent{SSL_get_stream_id(s), StreamChange::reset_sent, stream_code_crossed});
      start_receiver(s);
      break;
    }
    case PipeStreams::Use::extra:
      if (start_extra_stream(conn_, s, extra_rules_)) workers_.start([this, s] { extra_loop(s); });
      break;
  }
  ERR_clear_error();
}

void BlockingPipe::accept_loop() {
  for (;;) {
    ERR_clear_error();
    SSL* raw = SSL_accept_stream(conn_.ssl(), 0);  // blocks until a stream or the end
    if (!raw) break;
    SSL* s = conn_.adopt_accepted(SslPtr(raw));
    std::lock_guard lock(mutex_);
    adopt_locked(s);
    notify_.notify();
  }
  ERR_clear_error();
  notify_.notify();  // the connection is over: the control thread should look
}

void BlockingPipe::send_loop() {
  std::vector<unsigned char> buffer(chunk_size);
  for (;;) {
    if (!input_.always_ready() && !wait_ready(input_.fd(), POLLIN, stop_send_.fd())) return;
    size_t n = 0;
    std::string error;
    LocalInput::Result r = input_.read(buffer.data(), buffer.size(), n, error);
    if (r == LocalInput::Result::not_ready) continue;
    if (r != LocalInput::Result::data) {
      std::lock_guard lock(mutex_);
      if (r == LocalInput::Result::eof) {
        facts_.input_eof = true;
        emitter_.emit(InputClosedEvent{});
      } else {
        facts_.local_error = Outcome{Status::io_error, "cannot read input: " + error};
      }
      notify_.notify();
      return;
    }
    tick(emitter_, conn_.ssl(), wake_input, 0, n);
    SSL* s = nullptr;
    for (;;) {
      {
        std::lock_guard lock(mutex_);
        if (facts_.reset_sent || facts_.stopped) return;  // nothing more goes out
        s = send_stream_locked(error);
        if (!error.empty()) {
          facts_.local_error = Outcome{Status::internal, error};
          notify_.notify();
          return;
        }
        if (s) {
          facts_.input_read += n;
          facts_.sending = true;
          ++users_[s];
          break;
        }
      }
      // At the peer's stream limit: MAX_STREAMS comes with the peer's next packets.
      pollfd p{stop_send_.fd(), POLLIN, 0};
      if (::poll(&p, 1, 10) > 0) return;
    }
    // Blocks until the stream has taken every byte (all-or-nothing), or takes what fits and
    // is called again for the rest (partial writes).
    size_t done = 0;
    while (done < n) {
      size_t written = 0;
      ERR_clear_error();
      if (SSL_write_ex(s, buffer.data() + done, n - done, &written) != 1) {
        std::lock_guard lock(mutex_);
        facts_.sent += done;
        facts_.sending = false;
        write_failed_locked(s);
        --users_[s];
        notify_.notify();
        return;
      }
      done += written;
    }
    {
      std::lock_guard lock(mutex_);
      facts_.sent += n;
      facts_.sending = false;
      facts_.last_activity = Clock::now();
      --users_[s];
    }
    progress();
  }
}

void BlockingPipe::receive_loop(SSL* s) {
  std::vector<unsigned char> buffer(chunk_size);
  bool connection_gone_ = false;  // one more read after the close (see below)
  for (;;) {
    size_t n = 0;
    ERR_clear_error();
    if (SSL_read_ex(s, buffer.data(), buffer.size(), &n) == 1) {
      tick(emitter_, conn_.ssl(), wake_net_readable, n, 0);
      {
        std::lock_guard lock(mutex_);
        if (s == streams_.own()) streams_.heard_on_own();
        // Crossed streams: the receiving half of our own stream carries nothing for the pipe.
        if (s != streams_.receive()) continue;
        if (facts_.received == 0) emitter_.emit(FirstByteEvent{SSL_get_stream_id(s)});
        facts_.received += n;
        if (expect_.feed(buffer.data(), n) && !facts_.expect_met) {
          facts_.expect_met = true;
          notify_.notify();  // a change of state: the control thread decides again at once
        }
      }
      for (size_t off = 0; off < n;) {
        if (!output_.always_ready() && !wait_ready(output_.fd(), POLLOUT, stop_all_.fd())) {
          release(s);
          return;
        }
        size_t k = 0;
        std::string error;
        LocalOutput::Result r = output_.write(buffer.data() + off, n - off, k, error);
        if (r == LocalOutput::Result::not_ready) continue;
        std::lock_guard lock(mutex_);
        if (r == LocalOutput::Result::written) {
          off += k;
          facts_.written += k;
          facts_.last_activity = Clock::now();
          continue;
        }
        if (r == LocalOutput::Result::closed) facts_.output_closed = true;
        else facts_.local_error = Outcome{Status::io_error, "cannot write output: " + error};
        --users_[s];
        notify_.notify();
        return;
      }
      {
        // Every --expect pattern matched and our input is out and acknowledged: this chunk was
        // the last one read. (A match before that reads on; if what ends it is the ACK, the
        // control thread sees it and closes, which ends this thread.)
        std::lock_guard lock(mutex_);
        if (stop_at_match_ && match_ends_reading(facts_) && s == streams_.receive()) {
          --users_[s];
          notify_.notify();
          return;
        }
      }
      progress();
      continue;
    }
    // SSL_get_error() reads the stream object's last error, which the sender's SSL_write_ex()
    // on the same stream may have overwritten meanwhile: the stream's state says it for sure.
    int state = SSL_get_stream_read_state(s);
    bool fin = SSL_get_error(s, 0) == SSL_ERROR_ZERO_RETURN || state == SSL_STREAM_STATE_FINISHED;
    if (!fin && state == SSL_STREAM_STATE_CONN_CLOSED &&
        !read_failed_by_reset() && !connection_gone_) {
      // Woken by the connection's close, a blocked read fails before it looks at the stream;
      // what arrived before the close is still there. Read on: with the connection closed a
      // read no longer blocks, and it ends with the FIN, the reset, or nothing more.
      connection_gone_ = true;
      continue;
    }
    std::lock_guard lock(mutex_);
    if (fin) {
      if (s == streams_.own()) streams_.heard_on_own();
      emitter_.emit(StreamEvent{SSL_get_stream_id(s), StreamChange::fin_received, {}});
      if (s == streams_.receive()) {
        expect_.data_ended();
        facts_.peer_fin_after_ours = facts_.fin_sent;
        facts_.fin_received = true;
        facts_.read_ended = true;
      }
    } else {
      read_failed_locked(s);
    }
    ERR_clear_error();
    --users_[s];
    notify_.notify();
    return;
  }
}

void BlockingPipe::extra_loop(SSL* s, bool ours) {
  ExtraStreamReader reader(SSL_get_stream_id(s), config_.output_dir, emitter_);
  std::vector<unsigned char> buffer(16 * 1024);
  bool connection_gone = false;  // one more read after the close, as in receive_loop
  for (;;) {
    size_t n = 0;
    ERR_clear_error();
    if (SSL_read_ex(s, buffer.data(), buffer.size(), &n) == 1) {
      if (reader.data(buffer.data(), n)) continue;
      conn_.forget_stream(s);  // the file failed: STOP_SENDING
      return;
    }
    int state = SSL_get_stream_read_state(s);
    bool fin = SSL_get_error(s, 0) == SSL_ERROR_ZERO_RETURN || state == SSL_STREAM_STATE_FINISHED;
    if (!fin && state == SSL_STREAM_STATE_CONN_CLOSED && !read_failed_by_reset() && !connection_gone) {
      connection_gone = true;
      continue;
    }
    finish_extra_stream(conn_, s, reader, fin, !ours);
    return;
  }
}

void BlockingPipe::read_failed_locked(SSL* s) {
  uint64_t code = 0;
  bool data = s == streams_.receive();
  switch (SSL_get_stream_read_state(s)) {
    case SSL_STREAM_STATE_RESET_REMOTE:
      SSL_get_stream_read_error_code(s, &code);
      emitter_.emit(StreamEvent{SSL_get_stream_id(s), StreamChange::reset_received, code});
      if (s == streams_.own() && code == stream_code_crossed) {
        if (!streams_.crossed()) streams_.own_receive_moved();
      } else if (data) {
        facts_.reset_received = code;
        facts_.read_ended = true;
      }
      break;
    case SSL_STREAM_STATE_CONN_CLOSED:
      if (!data) break;
      // A reset that came with the close shows only in the error's reason, its code only on
      // the wire.
      if (read_failed_by_reset()) {
        std::optional<uint64_t> code = conn_.peer_reset_code(s);
        emitter_.emit(StreamEvent{SSL_get_stream_id(s), StreamChange::reset_received, code});
        if (s == streams_.own() && code == stream_code_crossed) {
          // Crossed streams, and the peer closed right after: its data is on its own stream.
          if (!streams_.crossed()) streams_.own_receive_moved();
          break;
        }
        facts_.reset_received = code.value_or(stream_code_unknown);
      }
      facts_.read_ended = true;
      break;
    case SSL_STREAM_STATE_RESET_LOCAL:
      if (data) facts_.read_ended = true;
      break;
    default:
      if (data) {
        facts_.read_ended = true;
        facts_.local_error = Outcome{Status::io_error, "stream read failed: " + openssl_error_text()};
      }
  }
}

void BlockingPipe::write_failed_locked(SSL* s) {
  uint64_t code = 0;
  switch (SSL_get_stream_write_state(s)) {
    case SSL_STREAM_STATE_RESET_LOCAL:
      if (facts_.reset_sent) break;  // our own reset
      SSL_get_stream_write_error_code(s, &code);
      if (!facts_.stopped)
        emitter_.emit(StreamEvent{SSL_get_stream_id(s), StreamChange::reset_received, code});
      facts_.stopped = code;
      break;
    case SSL_STREAM_STATE_CONN_CLOSED:
      break;  // the connection's end is reported by its owner
    default:
      facts_.local_error = Outcome{Status::io_error, "stream write failed: " + openssl_error_text()};
  }
  ERR_clear_error();
}

PipeFacts BlockingPipe::snapshot() {
  std::lock_guard lock(mutex_);
  facts_.peer_acked = conn_.peer_acked();
  facts_.peer_data_at = conn_.last_peer_data_in();
  facts_.loss_seen = conn_.loss_seen();
  facts_.peer_resend_gap = conn_.peer_resend_gap();
  facts_.reset_left = facts_.reset_sent && conn_.reset_frame_sent();
  facts_.receive_moved = streams_.awaiting_peer_stream();
  facts_.handshake_confirmed = conn_.handshake_confirmed();
  facts_.key_update_safe = conn_.key_update_safe();
  if (SSL* s = streams_.send()) {
    // OpenSSL keeps the send buffer, and so this count, after the connection has ended; it
    // frees it (and the count reads 0) once every byte and the FIN are acknowledged.
    uint64_t used = 0;
    if (SSL_get_stream_write_buf_used(s, &used) == 1) facts_.unacked = used;
    ERR_clear_error();
  }
  return facts_;
}

void BlockingPipe::finish_sending_locked() {
  if (!fin_pending_ && !reset_pending_) return;
  std::string error;
  SSL* s = send_stream_locked(error);
  if (!s) {
    if (!error.empty()) {
      facts_.local_error = Outcome{Status::internal, error};
      fin_pending_ = false;
      reset_pending_.reset();
    }
    return;  // at the stream limit: the next turn tries again
  }
  uint64_t id = SSL_get_stream_id(s);
  ERR_clear_error();
  if (fin_pending_) {
    fin_pending_ = false;
    if (SSL_stream_conclude(s, 0) == 1) {
      facts_.fin_sent = true;
      emitter_.emit(StreamEvent{id, StreamChange::fin_sent, {}});
    } else {
      write_failed_locked(s);
    }
  }
  if (reset_pending_) {
    SSL_STREAM_RESET_ARGS args{*reset_pending_};
    if (SSL_stream_reset(s, &args, sizeof args) == 1) {
      facts_.reset_sent = true;
      emitter_.emit(StreamEvent{id, StreamChange::reset_sent, *reset_pending_});
    } else {
      write_failed_locked(s);
    }
    reset_pending_.reset();
  }
  ERR_clear_error();
}

void BlockingPipe::free_unused_locked() {
  // Freeing a stream sends STOP_SENDING for its receiving side; a stream a worker still uses
  // waits (its worker returns once OpenSSL wakes it, at the latest when the connection ends).
  // Nor one whose FIN or reset is still to be made: freed first, OpenSSL would reset it
  // with code 0 instead (closed_output saw code 0 where 0x2 was asked, under load).
  for (auto it = to_free_.begin(); it != to_free_.end();) {
    if (users_[*it] > 0 || (*it == streams_.send() && (reset_pending_ || fin_pending_))) {
      ++it;
      continue;
    }
    streams_.forget(*it);
    conn_.forget_stream(*it);
    it = to_free_.erase(it);
  }
}

bool BlockingPipe::apply(const Step& step, TransferPolicy& policy) {
  bool changed = false;
  {
    std::lock_guard lock(mutex_);
    bool was_fin = facts_.fin_sent, was_reset = facts_.reset_sent;
    if (step.send_fin) fin_pending_ = true;
    if (step.reset_stream) reset_pending_ = *step.reset_stream;
    finish_sending_locked();
    if (step.stop_reading) {
      SSL* r = streams_.receive() ? streams_.receive() : streams_.send();
      if (r) to_free_.push_back(r);
      facts_.read_ended = true;
    }
    free_unused_locked();
    if (!step.read_input && !facts_.input_eof) stop_send_.notify();
    changed = facts_.fin_sent != was_fin || facts_.reset_sent != was_reset || step.stop_reading;
  }
  if (step.key_update && conn_.request_key_update(facts_.sent)) {
    policy.key_update_requested();
    changed = true;
  }
  return changed;
}

Outcome BlockingPipe::run() {
  TransferPolicy policy(policy_settings(run_));
  policy.set_linger(linger_for(conn_.handshake_rtt_us()));
  policy.set_round_trip(conn_.handshake_rtt_us());
  workers_.start([this] { accept_loop(); });
  workers_.start([this] { send_loop(); });

  std::optional<CloseRequest> closing;
  bool close_done = false;
  bool closed_seen = false;
  TransferMeter meter(run_);
  Console console(run_, conn_, [this](SSL* s) { workers_.start([this, s] { extra_loop(s, true); }); });
  for (;;) {
    auto now = Clock::now();
    for (unsigned n = run_.interrupts.take_new(); n > 0; --n)
      policy.interrupted(run_.interrupts.signal(), now);
    uint64_t received, sent;
    {
      std::lock_guard lock(mutex_);
      received = facts_.received;
      sent = facts_.sent;
    }
    auto meter_due = meter.tick(received, sent, conn_, now);
    if (console.on()) {
      PipeFacts facts = snapshot();
      PipeStreamIds ids;
      {
        std::lock_guard lock(mutex_);
        ids = stream_ids(streams_);
      }
      console.turn(policy, facts, ids, meter.started(), now);
    }
    if (!closed_seen && options_.local_idle && !closing &&
        now - conn_.last_datagram_in() >= *options_.local_idle) {
      conn_.abort();
      closed_seen = true;
      policy.connection_closed(local_idle_close());
    }
    if (!closed_seen) {
      if (auto info = conn_.close_info()) {
        closed_seen = true;
        console.closed(*info);
        policy.connection_closed(*info);
      }
    }
    if (closed_seen) {
      // The acceptor gives up once the connection closes, but streams that arrived before the
      // close are still in the queue, their data still readable: deliver them too.
      for (SSL* s : conn_.accept_streams()) {
        std::lock_guard lock(mutex_);
        adopt_locked(s);
      }
    }
    if (closing && !close_done && conn_.close_step(*closing)) {
      close_done = true;
      policy.close_finished(conn_.close_info());
    }
    if (closing && conn_.close_frame_sent()) policy.close_frame_sent();

    Step step = policy.decide(snapshot(), now);
    bool changed = apply(step, policy);
    if (step.close) {
      closing = step.close;
      if (!close_done && conn_.close_step(*closing)) {
        close_done = true;
        policy.close_finished(conn_.close_info());
      }
      continue;
    }
    if (step.done) break;
    if (changed) continue;

    std::optional<Clock::time_point> deadline = step.wake;
    // A close in progress is looked at again when OpenSSL's next timer is due (the end of the
    // closing period, say): its assist thread moves the close, nothing notifies us. Between
    // 20 and 100 ms: soon enough to notice a close cut short by the peer, and no spinning
    // while a timer of OpenSSL's is due over and over (it is, while a peer does not answer:
    // 1 ms turns cost 100 ms of CPU over a 500 ms close on a loaded machine).
    if (closing) {
      auto due = event_timeout_us(conn_.ssl()).value_or(100'000);
      deadline = earliest(deadline, now + std::chrono::microseconds(
                                              std::clamp<int64_t>(due, 20'000, 100'000)));
    }
    if (options_.local_idle && !closed_seen)
      deadline = earliest(deadline, conn_.last_datagram_in() + *options_.local_idle);
    deadline = earliest(deadline, meter_due);
    if (console.wants_turn()) deadline = earliest(deadline, now + console_retry);
    if (auto quiet = quiet_until(); quiet > now) deadline = earliest(deadline, quiet);
    unsigned woke = wait_readable({notify_.fd()}, run_.interrupts.wake_fd(), deadline);
    if (woke & 1u) notify_.drain();
    if (!(woke & 1u)) tick(emitter_, conn_.ssl(), woke & readable_signal ? wake_signal : wake_timeout, 0, 0);
  }

  // The connection is closed (or closing): stop the workers and wake those inside OpenSSL.
  stop_all_.notify();
  stop_send_.notify();
  if (!conn_.closed()) conn_.abort();
  bool joined = workers_.join(worker_join_limit, [this] { waker_.wake(); });
  if (!joined) {
    emitter_.emit(WarningEvent{"a worker thread did not end; leaving it behind"});
    conn_.leak();
  }
  Transferred moved;
  Outcome outcome;
  {
    std::lock_guard lock(mutex_);
    moved = {facts_.written, facts_.sent, facts_.unacked};
    outcome = expect_.verdict(policy.outcome());
  }
  console.finished();
  conn_.report_end(moved);
  return outcome;
}

}  // namespace

Outcome pipe_blocking(Connection& conn, RunContext& run, const PipeOptions& options, Waker& waker) {
  BlockingPipe pipe(conn, run, options, waker);
  return pipe.run();
}

}  // namespace quicc

#include "blocking.hpp"

#include <openssl/err.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "ending.hpp"
#include "event_loop.hpp"
#include "session.hpp"

namespace quicc {

namespace {

// Closes the connection if the handshake is not done by the deadline, or when SIGINT/SIGTERM
// arrives; the blocked handshake call then returns with the connection terminated. OpenSSL does
// not wake a thread blocked in the handshake when another thread closes the connection (it
// wakes at its next timer, up to seconds later), so a client also shuts the reading side of its
// own UDP socket: poll() in the blocked thread returns at once. A listener's socket is shared
// and is left alone.
class Watchdog {
 public:
  enum class Fired { no, deadline, interrupt };

  Watchdog(SSL* conn, Clock::time_point deadline, int interrupt_fd, int own_socket) {
    if (::pipe2(stop_, O_CLOEXEC) != 0) stop_[0] = stop_[1] = -1;
    thread_ = std::thread([this, conn, deadline, interrupt_fd, own_socket] {
      for (;;) {
        auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
        pollfd fds[2] = {{stop_[0], POLLIN, 0}, {interrupt_fd, POLLIN, 0}};
        int rc = ::poll(fds, 2, static_cast<int>(std::max<int64_t>(0, left.count())));
        if (rc < 0 && errno == EINTR) continue;
        if (fds[0].revents) return;  // the handshake ended by itself
        if (fds[1].revents) {
          if (!take_interrupt(interrupt_fd)) continue;
          fired_ = Fired::interrupt;
        } else if (Clock::now() >= deadline) {
          fired_ = Fired::deadline;
        } else {
          continue;
        }
        SSL_shutdown_ex(conn, SSL_SHUTDOWN_FLAG_RAPID | SSL_SHUTDOWN_FLAG_NO_BLOCK, nullptr, 0);
        SSL_handle_events(conn);
        if (own_socket >= 0) ::shutdown(own_socket, SHUT_RD);
        return;
      }
    });
  }
  ~Watchdog() {
    char c = 1;
    [[maybe_unused]] ssize_t n = ::write(stop_[1], &c, 1);
    thread_.join();
    for (int fd : stop_)
      if (fd >= 0) ::close(fd);
  }
  // Valid once the watched call has returned.
  Fired fired() const { return fired_; }

 private:
  int stop_[2] = {-1, -1};
  std::atomic<Fired> fired_{Fired::no};
  std::thread thread_;
};


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

bool write_all(int fd, const unsigned char* data, size_t length, Outcome& outcome) {
  while (length > 0) {
    ssize_t n = ::write(fd, data, length);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        pollfd p{fd, POLLOUT, 0};
        ::poll(&p, 1, -1);
        continue;
      }
      outcome = errno == EPIPE
                    ? Outcome{Status::output_closed, "output closed by its reader; stopped reading"}
                    : Outcome{Status::io_error, std::string("cannot write output: ") +
                                                    std::strerror(errno)};
      return false;
    }
    data += n;
    length -= static_cast<size_t>(n);
  }
  return true;
}

// Echoes one stream back; runs on its own thread and frees the stream. Counts into `echoed`.
void echo_stream_thread(SSL* stream, Emitter& emitter, std::atomic<uint64_t>& echoed) {
  std::vector<unsigned char> buffer(256 * 1024);
  uint64_t id = SSL_get_stream_id(stream);
  SSL* conn = SSL_get0_connection(stream);
  for (;;) {
    size_t n = 0, written = 0;
    if (SSL_read_ex(stream, buffer.data(), buffer.size(), &n) == 1) {
      if (SSL_write_ex(stream, buffer.data(), n, &written) == 1) echoed += written;
      if (written != n) {
        Outcome o = describe_stream_failure(stream, conn, false, emitter, 0, 0);
        if (o.status == Status::stream_reset) emitter.emit(ErrorEvent{o});
        break;
      }
      continue;
    }
    if (SSL_get_error(stream, 0) == SSL_ERROR_ZERO_RETURN) {
      emitter.emit(StreamEvent{id, StreamChange::fin_received, {}});
      if (SSL_stream_conclude(stream, 0) == 1)
        emitter.emit(StreamEvent{id, StreamChange::fin_sent, {}});
      break;
    }
    Outcome o = describe_stream_failure(stream, conn, true, emitter, 0, 0);
    if (o.status == Status::stream_reset) emitter.emit(ErrorEvent{o});
    break;
  }
  ERR_clear_error();
  SSL_free(stream);
}

// The echo service's connections, so that an interrupt can close them all and wait for their
// threads before the process exits (OpenSSL must not be torn down under a running thread).
struct EchoRegistry {
  std::mutex mutex;
  std::vector<SSL*> connections;
};

void echo_connection_thread(SSL* conn, Config config, Emitter& emitter, EchoRegistry& registry) {
  auto accepted = Clock::now();
  SSL_set_default_stream_mode(conn, SSL_DEFAULT_STREAM_MODE_NONE);
  Outcome outcome = blocking_handshake(conn, config, nullptr);
  if (outcome.ok()) outcome = report_handshake(conn, emitter, accepted);
  if (!outcome.ok()) {
    emitter.emit(ErrorEvent{outcome});
    abort_connection(conn);
  } else {
    std::vector<std::thread> streams;
    std::atomic<uint64_t> echoed{0};
    // Blocks until the next stream, or returns null once the connection is over.
    while (SSL* stream = SSL_accept_stream(conn, 0)) {
      emitter.emit(StreamEvent{SSL_get_stream_id(stream), StreamChange::accepted, {}});
      streams.emplace_back(echo_stream_thread, stream, std::ref(emitter), std::ref(echoed));
    }
    ERR_clear_error();
    for (auto& t : streams) t.join();
    describe_close(conn, emitter, echoed, echoed);
    ERR_clear_error();
  }
  std::lock_guard lock(registry.mutex);
  std::erase(registry.connections, conn);
  SSL_free(conn);
}

}  // namespace

Outcome blocking_handshake(SSL* conn, const Config& config, const TlsContext* tls) {
  int rc = 0;
  Watchdog::Fired fired = Watchdog::Fired::no;
  {
    int own_socket = -1;
    BIO_POLL_DESCRIPTOR d{};
    if (config.role == Role::client && SSL_get_rpoll_descriptor(conn, &d) &&
        d.type == BIO_POLL_DESCRIPTOR_TYPE_SOCK_FD)
      own_socket = d.value.fd;
    Watchdog watchdog(conn, Clock::now() + config.connect_timeout, config.interrupt_fd,
                      own_socket);
    rc = SSL_do_handshake(conn);
    if (rc != 1) fired = watchdog.fired();
  }
  if (rc == 1) return {};
  if (fired == Watchdog::Fired::interrupt) {
    ERR_clear_error();
    return {Status::interrupted, "interrupted during the handshake"};
  }
  if (fired == Watchdog::Fired::deadline) {
    ERR_clear_error();
    return {Status::handshake_timeout,
            (config.role == Role::client ? "no handshake with " + config.endpoint.to_string()
                                         : std::string("client handshake not done")) +
                " within " + std::to_string(config.connect_timeout.count()) + " ms"};
  }
  return describe_handshake_failure(conn, tls);
}

BlockingPipe::BlockingPipe(SSL* conn, SSL* stream, const Config& config, Emitter& emitter,
                           int wake_socket)
    : conn_(conn), stream_(stream), config_(config), emitter_(emitter), wake_socket_(wake_socket) {
  last_activity_ns_ = Clock::now().time_since_epoch().count();
  if (::pipe2(done_pipe_, O_CLOEXEC) != 0) done_pipe_[0] = done_pipe_[1] = -1;
  if (::pipe2(watch_stop_, O_CLOEXEC) != 0) watch_stop_[0] = watch_stop_[1] = -1;
  reader_ = std::thread([this] { read_stream(); });
}

BlockingPipe::~BlockingPipe() {
  join();
  for (int fd : {done_pipe_[0], done_pipe_[1], watch_stop_[0], watch_stop_[1]})
    if (fd >= 0) ::close(fd);
}

void BlockingPipe::watch_interrupts() {
  for (;;) {
    pollfd fds[2] = {{watch_stop_[0], POLLIN, 0}, {config_.interrupt_fd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[0].revents) return;
    if (!take_interrupt(config_.interrupt_fd)) continue;
    SSL_SHUTDOWN_EX_ARGS args{close_code_interrupted, "interrupted"};
    if (++interrupts_ == 1) {
      SSL_shutdown_ex(conn_, SSL_SHUTDOWN_FLAG_NO_BLOCK | SSL_SHUTDOWN_FLAG_NO_STREAM_FLUSH, &args,
                      sizeof args);
    } else {
      SSL_shutdown_ex(conn_, SSL_SHUTDOWN_FLAG_NO_BLOCK | SSL_SHUTDOWN_FLAG_RAPID, &args,
                      sizeof args);
      SSL_handle_events(conn_);
      if (wake_socket_ >= 0) {
        ::shutdown(wake_socket_, SHUT_RD);
      } else if (config_.exit_now) {
        config_.exit_now(Status::interrupted);
      }
    }
    SSL_handle_events(conn_);
    char c = 1;
    [[maybe_unused]] ssize_t w = ::write(done_pipe_[1], &c, 1);
  }
}

Outcome BlockingPipe::run(Clock::time_point started) {
  std::thread watcher([this] { watch_interrupts(); });
  Outcome outcome = transfer(started);
  char c = 1;
  [[maybe_unused]] ssize_t w = ::write(watch_stop_[1], &c, 1);
  watcher.join();
  // An interrupt explains whatever the transfer ran into afterwards (a write failing on the
  // closing connection, say). A second one means: no graceful close either.
  if (interrupts_ > 0) return {Status::interrupted, "interrupted"};
  return outcome;
}

void BlockingPipe::join() {
  stopping_ = true;
  // After a rapid close the connection stays "terminating" for its closing period, and OpenSSL
  // wakes a thread blocked in SSL_read only once that ends (with a silent peer, seconds). The
  // close is done and nothing more is to be received, so a client shuts the reading side of
  // its own socket: the blocked poll() inside OpenSSL returns, SSL_read sees the connection
  // terminating and returns. A listener's socket is shared and is left alone.
  if (!reader_done_ && wake_socket_ >= 0) ::shutdown(wake_socket_, SHUT_RD);
  if (reader_.joinable()) reader_.join();
}

// Stream -> output, until FIN, a failure, or the connection ends.
void BlockingPipe::read_stream() {
  std::vector<unsigned char> buffer(256 * 1024);
  for (;;) {
    size_t n = 0;
    if (SSL_read_ex(stream_, buffer.data(), buffer.size(), &n) == 1) {
      in_ += n;
      last_activity_ns_ = Clock::now().time_since_epoch().count();
      tick(emitter_, conn_, wake_net_readable, n, 0);
      if (!write_all(config_.output_fd, buffer.data(), n, read_outcome_)) break;
      continue;
    }
    if (SSL_get_error(stream_, 0) == SSL_ERROR_ZERO_RETURN) {
      emitter_.emit(StreamEvent{SSL_get_stream_id(stream_), StreamChange::fin_received, {}});
      break;
    }
    if (stopping_ || interrupts_ > 0) break;  // we closed the connection: nothing to report
    read_outcome_ = describe_stream_failure(stream_, conn_, true, emitter_, in_, out_);
    break;
  }
  reader_done_ = true;
  char c = 1;
  [[maybe_unused]] ssize_t w = ::write(done_pipe_[1], &c, 1);
}

bool BlockingPipe::end_input(Outcome& outcome) {
  uint64_t id = SSL_get_stream_id(stream_);
  emitter_.emit(InputClosedEvent{});
  switch (config_.on_eof) {
    case EofPolicy::ignore:
      return true;
    case EofPolicy::reset: {
      SSL_STREAM_RESET_ARGS args{config_.eof_reset_code};
      if (SSL_stream_reset(stream_, &args, sizeof args) != 1) break;
      emitter_.emit(StreamEvent{id, StreamChange::reset_sent, config_.eof_reset_code});
      return true;
    }
    case EofPolicy::fin:
    case EofPolicy::close:
      // Nothing sent: the peer never sees the stream (see PipePump::end_input).
      if (config_.on_eof == EofPolicy::close && out_ == 0) return true;
      if (SSL_stream_conclude(stream_, 0) != 1) break;
      emitter_.emit(StreamEvent{id, StreamChange::fin_sent, {}});
      return true;
  }
  outcome = describe_stream_failure(stream_, conn_, false, emitter_, in_, out_);
  return false;
}

Outcome BlockingPipe::transfer(Clock::time_point started) {
  auto deadline_of_run = run_deadline(config_, started);
  std::vector<unsigned char> buffer(256 * 1024);
  bool input_eof = false;
  bool key_update_pending = config_.key_update_after.has_value();
  uint64_t key_update_at = config_.key_update_after.value_or(0);
  for (;;) {
    // Allowed once the handshake is confirmed; until then it is tried again each turn (a turn
    // is at most 50 ms while an update is pending).
    if (key_update_pending && out_ >= key_update_at && request_key_update(conn_, emitter_, out_))
      key_update_pending = false;
    // The transfer is over when both sides are, as the EOF policy counts them.
    if (reader_done_ && !read_outcome_.ok()) {
      if (config_.on_eof == EofPolicy::ignore && peer_closed_cleanly(conn_)) return {};
      return read_outcome_;
    }
    if (input_eof && config_.on_eof != EofPolicy::ignore &&
        (reader_done_ || config_.on_eof != EofPolicy::fin))
      return {};

    auto now = Clock::now();
    if (deadline_of_run && now >= *deadline_of_run)
      return deadline_outcome(Status::timeout, config_);
    std::optional<Clock::time_point> deadline = deadline_of_run;
    if (config_.idle_exit.count() > 0) {
      Clock::time_point idle_deadline =
          Clock::time_point(Clock::duration(last_activity_ns_.load())) + config_.idle_exit;
      if (now >= idle_deadline) return deadline_outcome(Status::idle_timeout, config_);
      deadline = deadline ? std::min(*deadline, idle_deadline) : idle_deadline;
    }
    int timeout_ms = -1;
    if (deadline)
      timeout_ms = static_cast<int>(
          std::chrono::ceil<std::chrono::milliseconds>(*deadline - now).count());
    if (key_update_pending && out_ >= key_update_at)
      timeout_ms = timeout_ms < 0 ? 50 : std::min(timeout_ms, 50);

    // Once the peer has finished its side, nobody reads the socket for this connection: watch
    // it here, so that a close from the peer ends a run whose input is still open.
    int peer_socket = -1;
    if (reader_done_) {
      BIO_POLL_DESCRIPTOR d{};
      if (SSL_get_rpoll_descriptor(conn_, &d) && d.type == BIO_POLL_DESCRIPTOR_TYPE_SOCK_FD)
        peer_socket = d.value.fd;
      if (read_outcome_.ok() && connection_closed(conn_))
        return peer_closed_outcome(conn_, emitter_, true, moved());
    }
    pollfd fds[4] = {{done_pipe_[0], POLLIN, 0},
                     {-1, POLLIN, 0},  // interrupts: see watch_interrupts()
                     {input_eof ? -1 : config_.input_fd, POLLIN, 0},
                     {peer_socket, POLLIN, 0}};
    if (peer_socket >= 0) {
      auto event_ms = event_timeout_us(conn_);
      int quic_ms = event_ms ? static_cast<int>((*event_ms + 999) / 1000) : -1;
      if (quic_ms >= 0) timeout_ms = timeout_ms < 0 ? quic_ms : std::min(timeout_ms, quic_ms);
    }
    if (::poll(fds, 4, timeout_ms) < 0) {
      if (errno == EINTR) continue;
      return {Status::io_error, std::string("poll: ") + std::strerror(errno)};
    }
    if (peer_socket >= 0) SSL_handle_events(conn_);
    if (interrupts_ > 0) return {Status::interrupted, "interrupted"};
    if (fds[0].revents) {
      char c;
      [[maybe_unused]] ssize_t r = ::read(done_pipe_[0], &c, 1);
    }
    if (!fds[2].revents) continue;

    ssize_t n = ::read(config_.input_fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return {Status::io_error, std::string("cannot read input: ") + std::strerror(errno)};
    }
    tick(emitter_, conn_, wake_input, 0, static_cast<uint64_t>(n));
    if (n == 0) {
      input_eof = true;
      Outcome o;
      if (!end_input(o)) return o;
      continue;
    }
    // Blocks until the stream has taken every byte (all-or-nothing), or takes what fits and is
    // called again for the rest (partial writes).
    for (size_t done = 0; done < static_cast<size_t>(n);) {
      size_t written = 0;
      if (SSL_write_ex(stream_, buffer.data() + done, static_cast<size_t>(n) - done, &written) != 1)
        return describe_stream_failure(stream_, conn_, false, emitter_, in_, out_);
      done += written;
      out_ += written;
    }
    last_activity_ns_ = Clock::now().time_since_epoch().count();
  }
}

Outcome blocking_serve_echo(SSL* listener, const Config& config, Emitter& emitter) {
  EchoRegistry registry;
  EventLoop loop(listener, emitter);
  auto deadline = run_deadline(config, Clock::now());
  uint64_t index = 0;
  Outcome outcome;
  while (SslPtr conn = wait_for_connection(listener, config, loop, deadline, outcome)) {
    emitter.emit(ConnectionAcceptedEvent{++index});
    std::lock_guard lock(registry.mutex);
    registry.connections.push_back(conn.get());
    std::thread(echo_connection_thread, conn.release(), config, std::ref(emitter),
                std::ref(registry))
        .detach();
  }
  // Interrupted (or past --timeout): tell every client why. The connection and stream threads
  // are blocked inside OpenSSL, which does not wake them for a local close until the closing
  // period ends; a normal exit would run OpenSSL's atexit cleanup under them. So the process
  // ends here, once the CONNECTION_CLOSE frames are on their way, without atexit handlers.
  // The connection threads free their connection when it ends: holding the registry keeps
  // them alive while close_all uses them.
  std::lock_guard lock(registry.mutex);
  close_all(registry.connections, config, loop);
  if (!registry.connections.empty() && config.exit_now) {
    emitter.emit(ErrorEvent{outcome});
    std::fflush(nullptr);
    config.exit_now(outcome.status);
  }
  return outcome;
}

}  // namespace quicc

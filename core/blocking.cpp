#include "blocking.hpp"

#include <openssl/err.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "ending.hpp"
#include "event_loop.hpp"
#include "session.hpp"

namespace quicc {

namespace {

// Closes the connection if the handshake is not done by the deadline; the blocked handshake
// call then returns with the connection terminated. OpenSSL does not wake a thread blocked in
// the handshake when another thread closes the connection (it wakes at its next timer, up to
// seconds later), so a client also shuts the reading side of its own UDP socket: poll() in the
// blocked thread returns at once. A listener's socket is shared and is left alone.
class Watchdog {
 public:
  Watchdog(SSL* conn, Clock::time_point deadline, int own_socket)
      : thread_([this, conn, deadline, own_socket] {
          std::unique_lock lock(mutex_);
          if (cv_.wait_until(lock, deadline, [this] { return done_; })) return;
          fired_ = true;
          SSL_shutdown_ex(conn, SSL_SHUTDOWN_FLAG_RAPID | SSL_SHUTDOWN_FLAG_NO_BLOCK, nullptr, 0);
          SSL_handle_events(conn);
          if (own_socket >= 0) ::shutdown(own_socket, SHUT_RD);
        }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  bool fired() {
    std::lock_guard lock(mutex_);
    return fired_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  bool fired_ = false;
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
      outcome = {Status::io_error, std::string("cannot write output: ") + std::strerror(errno)};
      return false;
    }
    data += n;
    length -= static_cast<size_t>(n);
  }
  return true;
}

// A pipe whose read end wakes a thread waiting in poll() on the input.
class Wakeup {
 public:
  Wakeup() {
    if (::pipe2(fds_, O_CLOEXEC) != 0) fds_[0] = fds_[1] = -1;
  }
  ~Wakeup() {
    if (fds_[0] >= 0) ::close(fds_[0]);
    if (fds_[1] >= 0) ::close(fds_[1]);
  }
  int fd() const { return fds_[0]; }
  void signal() {
    char c = 1;
    [[maybe_unused]] ssize_t n = ::write(fds_[1], &c, 1);
  }

 private:
  int fds_[2];
};

// Stream -> output, until FIN. Runs on its own thread.
void read_stream(SSL* conn, SSL* stream, int output_fd, Emitter& emitter,
                 std::atomic<uint64_t>& bytes_in, const std::atomic<uint64_t>& bytes_out,
                 Outcome& outcome) {
  std::vector<unsigned char> buffer(256 * 1024);
  for (;;) {
    size_t n = 0;
    if (SSL_read_ex(stream, buffer.data(), buffer.size(), &n) == 1) {
      bytes_in += n;
      tick(emitter, conn, wake_net_readable, n, 0);
      if (!write_all(output_fd, buffer.data(), n, outcome)) return;
      continue;
    }
    if (SSL_get_error(stream, 0) == SSL_ERROR_ZERO_RETURN) {
      emitter.emit(StreamEvent{SSL_get_stream_id(stream), StreamChange::fin_received, {}});
      return;
    }
    outcome = describe_stream_failure(stream, conn, true, emitter, bytes_in, bytes_out);
    return;
  }
}

// Echoes one stream back; runs on its own thread and frees the stream.
void echo_stream_thread(SSL* stream, Emitter& emitter) {
  std::vector<unsigned char> buffer(256 * 1024);
  uint64_t id = SSL_get_stream_id(stream);
  SSL* conn = SSL_get0_connection(stream);
  for (;;) {
    size_t n = 0, written = 0;
    if (SSL_read_ex(stream, buffer.data(), buffer.size(), &n) == 1) {
      if (SSL_write_ex(stream, buffer.data(), n, &written) != 1) {
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

void echo_connection_thread(SSL* conn, Config config, Emitter& emitter) {
  SSL_set_default_stream_mode(conn, SSL_DEFAULT_STREAM_MODE_NONE);
  Outcome outcome = blocking_handshake(conn, config, nullptr);
  if (outcome.ok()) outcome = report_handshake(conn, emitter);
  if (!outcome.ok()) {
    emitter.emit(ErrorEvent{outcome});
    abort_connection(conn);
    SSL_free(conn);
    return;
  }
  std::vector<std::thread> streams;
  // Blocks until the next stream, or returns null once the connection is over.
  while (SSL* stream = SSL_accept_stream(conn, 0)) {
    emitter.emit(StreamEvent{SSL_get_stream_id(stream), StreamChange::accepted, {}});
    streams.emplace_back(echo_stream_thread, stream, std::ref(emitter));
  }
  ERR_clear_error();
  for (auto& t : streams) t.join();
  describe_close(conn, emitter, 0, 0);
  ERR_clear_error();
  SSL_free(conn);
}

}  // namespace

Outcome blocking_handshake(SSL* conn, const Config& config, const TlsContext* tls) {
  int rc = 0;
  bool timed_out = false;
  {
    int own_socket = -1;
    BIO_POLL_DESCRIPTOR d{};
    if (config.role == Role::client && SSL_get_rpoll_descriptor(conn, &d) &&
        d.type == BIO_POLL_DESCRIPTOR_TYPE_SOCK_FD)
      own_socket = d.value.fd;
    Watchdog watchdog(conn, Clock::now() + config.connect_timeout, own_socket);
    rc = SSL_do_handshake(conn);
    timed_out = rc != 1 && watchdog.fired();
  }
  if (rc == 1) return {};
  if (timed_out) {
    ERR_clear_error();
    return {Status::handshake_timeout,
            (config.role == Role::client ? "no handshake with " + config.endpoint.to_string()
                                         : std::string("client handshake not done")) +
                " within " + std::to_string(config.connect_timeout.count()) + " ms"};
  }
  return describe_handshake_failure(conn, tls);
}

Outcome blocking_pipe(SSL* conn, SSL* stream, const Config& config, Emitter& emitter,
                      uint64_t& bytes_in, uint64_t& bytes_out) {
  std::atomic<uint64_t> in{0}, out{0};
  Outcome read_outcome, write_outcome;
  Wakeup stop_input;
  std::thread reader([&] {
    read_stream(conn, stream, config.output_fd, emitter, in, out, read_outcome);
    // A dead stream or connection ends the input side too, even while it waits for input.
    if (!read_outcome.ok()) stop_input.signal();
  });

  std::vector<unsigned char> buffer(256 * 1024);
  for (;;) {
    pollfd fds[2] = {{config.input_fd, POLLIN, 0}, {stop_input.fd(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      write_outcome = {Status::io_error, std::string("poll: ") + std::strerror(errno)};
      break;
    }
    if (fds[1].revents) break;
    ssize_t n = ::read(config.input_fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      write_outcome = {Status::io_error, std::string("cannot read input: ") + std::strerror(errno)};
      break;
    }
    tick(emitter, conn, wake_input, 0, static_cast<uint64_t>(n));
    if (n == 0) {
      emitter.emit(InputClosedEvent{});
      if (SSL_stream_conclude(stream, 0) == 1) {
        emitter.emit(StreamEvent{SSL_get_stream_id(stream), StreamChange::fin_sent, {}});
      } else {
        write_outcome = describe_stream_failure(stream, conn, false, emitter, in, out);
      }
      break;
    }
    size_t written = 0;
    // All-or-nothing: blocks until the stream has taken every byte.
    if (SSL_write_ex(stream, buffer.data(), static_cast<size_t>(n), &written) != 1) {
      write_outcome = describe_stream_failure(stream, conn, false, emitter, in, out);
      break;
    }
    out += written;
  }
  if (!write_outcome.ok()) {
    // Unblock the reader: a failed sender means the transfer is over.
    SSL_stream_reset(stream, nullptr, 0);
  }
  reader.join();
  bytes_in = in;
  bytes_out = out;
  if (!read_outcome.ok()) return read_outcome;
  return write_outcome;
}

Outcome blocking_close(SSL* conn, Emitter& emitter, uint64_t bytes_in, uint64_t bytes_out) {
  // In blocking mode SSL_shutdown returns once the connection is fully closed.
  while (SSL_shutdown(conn) == 0) {
  }
  emitter.emit(ShutdownEvent{true});
  describe_close(conn, emitter, bytes_in, bytes_out);
  ERR_clear_error();
  return {};
}

Outcome blocking_serve_echo(SSL* listener, const Config& config, Emitter& emitter) {
  uint64_t index = 0;
  for (;;) {
    SSL* conn = SSL_accept_connection(listener, 0);
    if (!conn) {
      ERR_clear_error();
      continue;
    }
    emitter.emit(ConnectionAcceptedEvent{++index});
    std::thread(echo_connection_thread, conn, config, std::ref(emitter)).detach();
  }
}

}  // namespace quicc

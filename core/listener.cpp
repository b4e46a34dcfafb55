// The listener (`--listen`): OpenSSL 3.5's listener API on one UDP socket. Without --echo it is
// `nc -l`: one connection, its first stream piped to stdout and stdin. With --echo it echoes
// every stream of every connection until interrupted.
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <list>
#include <memory>
#include <vector>

#include "blocking.hpp"
#include "echo_stream.hpp"
#include "ending.hpp"
#include "engine.hpp"
#include "net.hpp"
#include "session.hpp"
#include "ssl_ptr.hpp"
#include "tls.hpp"
#include "trace.hpp"

namespace quicc {

namespace {


// Accepted connections stay on the listener's socket; streams are accepted explicitly.
SslPtr accept_connection(SSL* listener) {
  SslPtr conn(SSL_accept_connection(listener, SSL_ACCEPT_CONNECTION_NO_BLOCK));
  if (conn) SSL_set_default_stream_mode(conn.get(), SSL_DEFAULT_STREAM_MODE_NONE);
  ERR_clear_error();
  return conn;
}

// One step of a server-side handshake: 1 done, 0 in progress, -1 failed (outcome set).
int handshake_step(SSL* conn, Outcome& outcome) {
  int rc = SSL_do_handshake(conn);
  if (rc == 1) return 1;
  int err = SSL_get_error(conn, rc);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return 0;
  outcome = describe_handshake_failure(conn, nullptr);
  return -1;
}

// A client's handshake under the non-blocking driver, bounded by --connect-timeout.
Outcome listener_handshake(SSL* conn, const Config& config, EventLoop& loop) {
  Outcome outcome;
  auto deadline = Clock::now() + config.connect_timeout;
  int hs = 0;
  while ((hs = handshake_step(conn, outcome)) == 0) {
    if (Clock::now() >= deadline)
      return {Status::handshake_timeout, "client handshake did not complete in time"};
    loop.wait({-1, -1, config.interrupt_fd}, deadline, 0, 0);
  }
  return outcome;
}

// `nc -l`: the first connection that completes its handshake, its first stream piped.
Outcome serve_pipe(SSL* listener, const Config& config, Emitter& emitter) {
  bool blocking = config.driver == Driver::blocking;
  auto started = Clock::now();
  auto deadline = run_deadline(config, started);
  EventLoop loop(listener, emitter);
  uint64_t index = 0;
  for (;;) {
    Outcome outcome;
    SslPtr conn = wait_for_connection(listener, config, loop, deadline, outcome);
    if (!conn) return outcome;
    emitter.emit(ConnectionAcceptedEvent{++index});
    auto accepted = Clock::now();

    // A client that fails its handshake (say, it rejects our certificate) never reached the
    // pipe: report it and wait for the next one, as a server would.
    outcome = blocking ? blocking_handshake(conn.get(), config, nullptr)
                       : listener_handshake(conn.get(), config, loop);
    if (!outcome.ok()) {
      emitter.emit(ErrorEvent{outcome});
      abort_connection(conn.get());
      continue;
    }
    if (Outcome o = report_handshake(conn.get(), emitter, accepted); !o.ok()) return o;

    SslPtr stream = wait_for_stream(conn.get(), config, loop, emitter, deadline, outcome);
    if (!stream) return outcome;

    if (!blocking) {
      Transferred moved;
      outcome = pipe_stream(conn.get(), stream.get(), config, loop, emitter, started, moved);
      return finish_connection(conn.get(), stream, config, loop, emitter, outcome, moved,
                               deadline);
    }
    BlockingPipe pipe(conn.get(), stream.get(), config, emitter, -1);
    outcome = pipe.run(started);
    outcome = finish_connection(conn.get(), stream, config, loop, emitter, outcome, pipe.moved(),
                                deadline);
    pipe.join();
    return outcome;
  }
}

}  // namespace

void close_all(const std::vector<SSL*>& connections, const Config& config, EventLoop& loop) {
  SSL_SHUTDOWN_EX_ARGS args{close_code_interrupted, "interrupted"};
  uint64_t flags = SSL_SHUTDOWN_FLAG_NO_BLOCK | SSL_SHUTDOWN_FLAG_NO_STREAM_FLUSH;
  auto deadline = Clock::now() + std::chrono::seconds(1);
  for (;;) {
    bool all_closed = true;
    for (SSL* conn : connections)
      all_closed = SSL_shutdown_ex(conn, flags, &args, sizeof args) == 1 && all_closed;
    if (all_closed || Clock::now() >= deadline) return;
    unsigned wake = loop.wait({-1, -1, config.interrupt_fd}, deadline, 0, 0);
    if ((wake & wake_signal) && take_interrupt(config.interrupt_fd)) flags |= SSL_SHUTDOWN_FLAG_RAPID;
  }
}

namespace {

struct EchoConnection {
  SslPtr conn;
  uint64_t index = 0;
  bool established = false;
  Clock::time_point accepted;
  Clock::time_point deadline;
  std::list<EchoStream> streams;
  uint64_t echoed = 0;  // by streams already finished
};

// Drives one echo connection a step; false once it is over and can be freed.
bool echo_step(EchoConnection& c, Emitter& emitter, bool& busy) {
  SSL* conn = c.conn.get();
  Outcome outcome;
  if (!c.established) {
    int hs = handshake_step(conn, outcome);
    if (hs == 0 && Clock::now() >= c.deadline) {
      outcome = {Status::handshake_timeout, "client handshake did not complete in time"};
      hs = -1;
    }
    if (hs < 0) {
      emitter.emit(ErrorEvent{outcome});
      abort_connection(conn);
      return false;
    }
    if (hs == 0) return true;
    c.established = true;
    if (Outcome o = report_handshake(conn, emitter, c.accepted); !o.ok()) {
      emitter.emit(ErrorEvent{o});
      abort_connection(conn);
      return false;
    }
  }
  while (SSL* s = SSL_accept_stream(conn, SSL_ACCEPT_STREAM_NO_BLOCK)) {
    emitter.emit(StreamEvent{SSL_get_stream_id(s), StreamChange::accepted, {}});
    c.streams.emplace_back(s, emitter);
  }
  ERR_clear_error();
  for (auto it = c.streams.begin(); it != c.streams.end();) {
    Outcome o;
    bool ok = it->step(o);
    busy = busy || it->busy();
    if (!ok && o.status != Status::peer_app_error && o.status != Status::peer_transport_error)
      emitter.emit(ErrorEvent{o});
    if (!ok || it->finished()) {
      c.echoed += it->echoed();
      it = c.streams.erase(it);
    } else {
      it = std::next(it);
    }
  }
  if (connection_closed(conn)) {
    uint64_t total = c.echoed;
    for (const auto& s : c.streams) total += s.echoed();
    describe_close(conn, emitter, total, total);
    return false;
  }
  return true;
}

Outcome serve_echo(SSL* listener, const Config& config, EventLoop& loop, Emitter& emitter) {
  std::list<EchoConnection> connections;
  uint64_t index = 0;
  for (;;) {
    while (SslPtr conn = accept_connection(listener)) {
      emitter.emit(ConnectionAcceptedEvent{++index});
      auto now = Clock::now();
      connections.push_back({std::move(conn), index, false, now, now + config.connect_timeout, {}});
    }
    bool busy = false;
    for (auto it = connections.begin(); it != connections.end();)
      it = echo_step(*it, emitter, busy) ? std::next(it) : connections.erase(it);
    unsigned wake = loop.wait({-1, -1, config.interrupt_fd},
                              busy ? std::optional(Clock::now()) : std::nullopt, 0, 0);
    if ((wake & wake_signal) && take_interrupt(config.interrupt_fd)) {
      std::vector<SSL*> open;
      for (auto& c : connections) open.push_back(c.conn.get());
      close_all(open, config, loop);
      return {Status::interrupted, "interrupted"};
    }
  }
}

}  // namespace

Outcome run_listener(const Config& config, Emitter& emitter) {
  std::vector<SocketAddress> addresses;
  if (Outcome o = resolve(config.endpoint, true, config.address_family, addresses); !o.ok())
    return o;

  Outcome outcome;
  CertificateEvent cert;
  auto tls = TlsContext::for_listener(config, outcome, cert, &emitter);
  if (!tls) return outcome;
  enable_qlog(config.qlog_dir);
  if (emitter.wants_trace()) enable_trace(tls->get(), emitter);

  UniqueFd fd;
  SocketAddress bound;
  if (Outcome o = open_listener_socket(addresses.front(), fd, bound); !o.ok()) return o;

  SslPtr listener(SSL_new_listener(tls->get(), 0));
  if (!listener || !SSL_set_fd(listener.get(), fd.get()) ||
      !SSL_set_blocking_mode(listener.get(), config.driver == Driver::blocking) || !SSL_listen(listener.get()))
    return {Status::internal, "cannot start the QUIC listener: " + openssl_error_text()};

  emitter.emit(ListeningEvent{bound.to_string()});
  emitter.emit(cert);

  if (!config.echo) return serve_pipe(listener.get(), config, emitter);
  if (config.driver == Driver::blocking) return blocking_serve_echo(listener.get(), config, emitter);
  EventLoop loop(listener.get(), emitter);
  return serve_echo(listener.get(), config, loop, emitter);
}

}  // namespace quicc

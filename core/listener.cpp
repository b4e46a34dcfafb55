// The listener (`--listen`): OpenSSL 3.5's listener API on one UDP socket. Without a service
// it is `nc -l`: one connection, piped to stdout and stdin (with --keep-open, `nc -l -k`: every
// client, see relay.hpp). With --echo, --serve, --sink,
// --source or --perf it serves every stream of its connection (of every connection with --keep-open).
//
// --idle-timeout on a listener: OpenSSL 3.5 offers no way to set a server connection's idle
// timeout before its transport parameters go out (they are generated while the first packet
// is processed, before SSL_accept_connection returns the connection, and the pending-connection
// callback runs before the channel is initialised, which resets the value). So the listener
// keeps its own idle timer: a connection that receives nothing for that long is closed as idle.
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "drivers.hpp"
#include "engine.hpp"
#include "event_loop.hpp"
#include "net.hpp"
#include "peer_address.hpp"
#include "service_stream.hpp"
#include "session.hpp"
#include "ssl_ptr.hpp"
#include "tls.hpp"
#include "wire.hpp"

namespace quicc {

// OpenSSL 3.5 gives a connection it accepted no message callback (create_qc_from_incoming_conn
// copies none from the SSL_CTX, unlike SSL_new_from_listener), so it is set here, while
// another thread may be ticking the shared port and handing this connection datagrams.
// SSL_set_msg_callback takes no lock (ossl_quic_callback_ctrl); install_wire_callback sets the
// argument before the callback, and the callback ignores a call without its SSL (tsan.supp).
SslPtr accept_connection(SSL* listener, Driver driver, Emitter& emitter) {
  SslPtr conn(SSL_accept_connection(listener, SSL_ACCEPT_CONNECTION_NO_BLOCK));
  ERR_clear_error();
  if (!conn) return nullptr;
  install_wire_callback(conn.get(), emitter.wants_trace() ? &emitter : nullptr);
  // Streams are accepted explicitly, as the client does.
  SSL_set_default_stream_mode(conn.get(), SSL_DEFAULT_STREAM_MODE_NONE);
  SSL_set_incoming_stream_policy(conn.get(), SSL_INCOMING_STREAM_POLICY_ACCEPT, 0);
  SSL_set_blocking_mode(conn.get(), driver == Driver::blocking);
  ERR_clear_error();
  return conn;
}

std::string accepted_peer_address(RunContext& run, SSL* conn) {
  return run.peers ? run.peers->take(conn) : std::string();
}

// A refused connection's close is kept this long: a client's next datagrams (a retransmission)
// then meet its CONNECTION_CLOSE again instead of making a new connection to refuse. At most
// refused_kept_max are kept (a flood drops the oldest sooner).
constexpr auto refused_kept_for = std::chrono::seconds(2);
constexpr size_t refused_kept_max = 1000;

namespace {

// Moves the refused connections on: closes those whose handshake is complete, drops those whose
// handshake failed or ran out of time, and those kept long enough.
void step_refused(RunContext& run, Clock::time_point now) {
  for (auto it = run.refused.begin(); it != run.refused.end();) {
    SSL* ssl = it->ssl.get();
    if (!it->closed) {
      ERR_clear_error();
      int rc = SSL_do_handshake(ssl);
      if (rc == 1) {
        close_at_once(ssl, close_code_refused, "too many connections");
        it->closed = true;
        it->until = now + refused_kept_for;
      } else if (int err = SSL_get_error(ssl, rc); err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
        it->until = now;  // its handshake failed: nothing to tell it
      }
      ERR_clear_error();
    }
    if (it->until <= now) it = run.refused.erase(it);
    else ++it;
  }
  while (run.refused.size() > refused_kept_max) run.refused.pop_front();
}

}  // namespace

SslPtr take_connection(SSL* listener, RunContext& run, size_t open, std::string& peer) {
  const Config& config = run.config;
  auto now = Clock::now();
  step_refused(run, now);
  for (;;) {
    SslPtr conn = accept_connection(listener, config.driver, run.emitter);
    if (!conn) return nullptr;
    peer = accepted_peer_address(run, conn.get());
    if (open < config.max_conns) return conn;
    run.emitter.emit(WarningEvent{
        "refused a connection from " + (peer.empty() ? std::string("an unknown address") : peer) +
        ": " + std::to_string(open) + (open == 1 ? " connection is" : " connections are") +
        " open (--max-conns " + std::to_string(config.max_conns) + "); closing it with code " +
        hex_code(close_code_refused)});
    // Stepped from here, whatever the driver.
    SSL_set_blocking_mode(conn.get(), 0);
    run.refused.push_back({std::move(conn), now + config.connect_timeout, false});
    step_refused(run, now);
  }
}

std::optional<Clock::time_point> request_deadline(const Config& config,
                                                  Clock::time_point last_request) {
  auto idle = listener_idle_limit(config);
  if (config.service != Service::serve || !idle) return std::nullopt;
  return last_request + *idle;
}

void close_for_no_request(Connection& conn, ServiceTally& tally, Emitter& emitter,
                          const Config& config) {
  tally.no_request(emitter, *listener_idle_limit(config));
  conn.abort(close_code_timeout, "no request");
}

std::optional<Outcome> step_accepted_handshake(Connection& conn, Clock::time_point accepted,
                                               const Config& config) {
  ERR_clear_error();
  int rc = SSL_do_handshake(conn.ssl());
  if (rc != 1) {
    int err = SSL_get_error(conn.ssl(), rc);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
      return describe_handshake_failure(conn.ssl(), nullptr);
    if (Clock::now() >= accepted + config.connect_timeout)
      return handshake_timeout_outcome(config, false);
    return std::nullopt;
  }
  return conn.report_handshake(accepted);
}

std::optional<std::chrono::milliseconds> listener_idle_limit(const Config& config) {
  if (!config.idle_timeout || config.idle_timeout->count() <= 0) return std::nullopt;
  return *config.idle_timeout;
}

namespace {

// The next connection; null with `outcome` set at an interrupt, --timeout, or --idle-exit (no
// connection for that long).
SslPtr wait_for_connection(SSL* listener, RunContext& run, EventLoop& loop, Outcome& outcome) {
  const Config& config = run.config;
  std::optional<Clock::time_point> idle_deadline;
  if (config.idle_exit.count() > 0) idle_deadline = Clock::now() + config.idle_exit;
  auto deadline = earliest(run.run_deadline(), idle_deadline);
  for (;;) {
    if (run.interrupts.take_new() > 0) {
      outcome = interrupted_outcome(run.interrupts.signal());
      return nullptr;
    }
    if (SslPtr conn = accept_connection(listener, config.driver, run.emitter)) return conn;
    auto now = Clock::now();
    if (run.run_deadline() && now >= *run.run_deadline()) {
      outcome = timeout_outcome(config);
      return nullptr;
    }
    if (idle_deadline && now >= *idle_deadline) {
      outcome = idle_exit_outcome(config);
      return nullptr;
    }
    // Under the blocking driver OpenSSL's assist thread may read the client's datagrams
    // before our poll() sees them: look at the accept queue every 50 ms.
    auto until = deadline;
    if (config.driver == Driver::blocking)
      until = earliest(until, Clock::now() + std::chrono::milliseconds(50));
    loop.wait({}, until);
  }
}

// `nc -l`: the first connection that completes its handshake, piped.
Outcome serve_pipe(SSL* listener, int listener_fd, RunContext& run) {
  const Config& config = run.config;
  bool blocking = config.driver == Driver::blocking;
  EventLoop loop(listener, run.emitter, run.interrupts.wake_fd());
  uint64_t index = 0;
  for (;;) {
    Outcome outcome;
    SslPtr accepted = wait_for_connection(listener, run, loop, outcome);
    if (!accepted) return outcome;
    ++index;
    std::string peer = accepted_peer_address(run, accepted.get());
    run.emitter.emit(ConnectionAcceptedEvent{index, peer});
    Connection conn(std::move(accepted), run.emitter, true);
    conn.set_peer(std::move(peer));
    auto started = Clock::now();
    HandshakeLimits limits{started + config.connect_timeout, false};
    Waker waker(-1, listener_fd);
    outcome = blocking ? handshake_blocking(conn, run, limits, nullptr, waker)
                       : handshake_nonblocking(conn, listener, run, limits, nullptr);
    if (outcome.status == Status::interrupted || outcome.status == Status::timeout) return outcome;
    if (!outcome.ok()) {
      // A client that fails its handshake (say, it rejects our certificate) never reached the
      // pipe: the client's failure, not ours. Warn and wait for the next one, as a server would.
      run.emitter.emit(WarningEvent{outcome.message});
      conn.abort();
      continue;
    }
    if (Outcome o = conn.report_handshake(started); !o.ok()) {
      conn.abort();
      return o;
    }
    PipeOptions options{listener, listener_idle_limit(config)};
    return blocking ? pipe_blocking(conn, run, options, waker)
                    : pipe_nonblocking(conn, run, options);
  }
}

}  // namespace

Outcome run_listener(const Config& config, Emitter& emitter, InterruptWatch& interrupts) {
  RunContext run{config, emitter, interrupts};
  Outcome outcome;
  CertificateEvent cert;
  auto tls = TlsContext::for_listener(config, outcome, cert, &emitter);
  if (!tls) return outcome;
  enable_qlog(config.qlog_dir);
  install_wire_callback(tls->get(), emitter.wants_trace() ? &emitter : nullptr);

  std::vector<SocketAddress> resolved;
  if (!config.endpoint.host.empty()) {
    if (Outcome o = resolve_interruptible(config.endpoint, true, config.address_family,
                                          interrupts, run.run_deadline(), resolved);
        !o.ok())
      return o;
  }
  UniqueFd fd;
  SocketAddress bound;
  for (const SocketAddress& a : listen_addresses(config.endpoint, config.address_family, resolved)) {
    outcome = open_listener_socket(a, config.address_family == AF_INET6, fd, bound);
    if (outcome.ok()) break;
  }
  if (!outcome.ok()) return outcome;

  // Before the listener, which frees its socket BIO (and with it the book's filter) first.
  PeerAddressBook peers;
  run.peers = &peers;
  SslPtr listener(SSL_new_listener(tls->get(), 0));
  // Connections refused at --max-conns go before their listener.
  struct ClearRefused {
    RunContext& run;
    ~ClearRefused() { run.refused.clear(); }
  } clear_refused{run};
  if (!listener || !peers.install(tls->get(), listener.get(), fd.get()) ||
      !SSL_set_blocking_mode(listener.get(), config.driver == Driver::blocking) ||
      !SSL_listen(listener.get()))
    return {Status::internal, "cannot start the QUIC listener: " + openssl_error_text()};

  emitter.emit(ListeningEvent{bound.to_string()});
  emitter.emit(cert);

  if (config.service == Service::pipe && config.keep_open)
    return config.driver == Driver::blocking ? relay_blocking(listener.get(), fd.get(), run)
                                             : relay_nonblocking(listener.get(), run);
  if (config.service == Service::pipe) return serve_pipe(listener.get(), fd.get(), run);
  return config.driver == Driver::blocking ? service_blocking(listener.get(), fd.get(), run)
                                           : service_nonblocking(listener.get(), run);
}

}  // namespace quicc

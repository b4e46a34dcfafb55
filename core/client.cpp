// The client: resolve, connect, handshake, pipe one stream we open ourselves, close.
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <netinet/in.h>

#include <memory>

#include "blocking.hpp"
#include "ending.hpp"
#include "engine.hpp"
#include "net.hpp"
#include "session.hpp"
#include "ssl_ptr.hpp"
#include "tls.hpp"
#include "trace.hpp"

namespace quicc {

namespace {

bool is_ip_literal(const std::string& host) {
  return host.find(':') != std::string::npos ||
         host.find_first_not_of("0123456789.") == std::string::npos;
}

// The QUIC connection object, configured before the first packet.
SslPtr new_connection(const Config& config, const TlsContext& tls, int fd,
                      const SocketAddress& peer, Outcome& outcome) {
  SslPtr conn(SSL_new(tls.get()));
  BIO* bio = conn ? BIO_new(BIO_s_datagram()) : nullptr;
  if (!bio) {
    outcome = {Status::internal, "cannot create connection: " + openssl_error_text()};
    return nullptr;
  }
  BIO_set_fd(bio, fd, BIO_NOCLOSE);
  SSL_set_bio(conn.get(), bio, bio);

  BIO_ADDR* addr = BIO_ADDR_new();
  const sockaddr* sa = peer.get();
  bool addr_ok =
      sa->sa_family == AF_INET
          ? BIO_ADDR_rawmake(addr, AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr,
                             sizeof(in_addr), reinterpret_cast<const sockaddr_in*>(sa)->sin_port)
          : BIO_ADDR_rawmake(addr, AF_INET6,
                             &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr,
                             sizeof(in6_addr), reinterpret_cast<const sockaddr_in6*>(sa)->sin6_port);
  addr_ok = addr_ok && SSL_set1_initial_peer_addr(conn.get(), addr);
  BIO_ADDR_free(addr);

  const std::string& host = config.endpoint.host;
  // SNI names a host, never an address (RFC 6066); --sni overrides, --no-sni omits it.
  std::string sni = config.sni.empty() && !is_ip_literal(host) ? host : config.sni;
  auto alpn = alpn_wire_format(config.alpn);
  bool ok = addr_ok &&
            (config.no_sni || sni.empty() ||
             SSL_set_tlsext_host_name(conn.get(), sni.c_str()) == 1) &&
            // A pinned certificate replaces the name check, as in ssh; --insecure skips it.
            (!config.pin_sha256.empty() || config.insecure ||
             SSL_set1_host(conn.get(), host.c_str()) == 1) &&
            (!tls.session_in() || SSL_set_session(conn.get(), tls.session_in()) == 1) &&
            (!config.idle_timeout ||
             SSL_set_feature_request_uint(conn.get(), SSL_VALUE_QUIC_IDLE_TIMEOUT,
                                          static_cast<uint64_t>(config.idle_timeout->count())) == 1) &&
            SSL_set_alpn_protos(conn.get(), alpn.data(), static_cast<unsigned>(alpn.size())) == 0 &&
            SSL_set_blocking_mode(conn.get(), config.driver == Driver::blocking) == 1 &&
            // Our data stream is one we open ourselves: with the default stream mode a stream the
            // peer opens first (an HTTP/3 control stream, say) would become the default stream.
            SSL_set_default_stream_mode(conn.get(), SSL_DEFAULT_STREAM_MODE_NONE) == 1 &&
            SSL_set_incoming_stream_policy(conn.get(), SSL_INCOMING_STREAM_POLICY_ACCEPT, 0) == 1;
  if (!ok) {
    outcome = {Status::internal, "cannot configure connection: " + openssl_error_text()};
    return nullptr;
  }
  return conn;
}

Outcome handshake(SSL* conn, const Config& config, const TlsContext& tls, EventLoop& loop) {
  auto deadline = Clock::now() + config.connect_timeout;
  unsigned wake = wake_none;
  for (;;) {
    if ((wake & wake_signal) && take_interrupt(config.interrupt_fd))
      return {Status::interrupted, "interrupted during the handshake"};
    int rc = SSL_connect(conn);
    if (rc == 1) return {};
    int err = SSL_get_error(conn, rc);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
      return describe_handshake_failure(conn, &tls);
    if (Clock::now() >= deadline) {
      ERR_clear_error();
      return {Status::handshake_timeout,
              "no handshake with " + config.endpoint.to_string() + " within " +
                  std::to_string(config.connect_timeout.count()) + " ms"};
    }
    wake = loop.wait({-1, -1, config.interrupt_fd}, deadline, 0, 0);
  }
}

SslPtr open_stream(SSL* conn, EventLoop& loop, Emitter& emitter, Outcome& outcome) {
  for (;;) {
    SslPtr stream(SSL_new_stream(conn, 0));
    if (stream) {
      emitter.emit(StreamEvent{SSL_get_stream_id(stream.get()), StreamChange::opened, {}});
      return stream;
    }
    // At the peer's stream limit: wait for MAX_STREAMS, as OpenSSL asks.
    if (ERR_GET_REASON(ERR_peek_last_error()) != SSL_R_STREAM_COUNT_LIMITED) {
      outcome = {Status::internal, "cannot open a stream: " + openssl_error_text()};
      return nullptr;
    }
    ERR_clear_error();
    if (connection_closed(conn)) {
      outcome = describe_close(conn, emitter, 0, 0);
      return nullptr;
    }
    loop.wait({}, std::nullopt, 0, 0);
  }
}

Outcome run_nonblocking(SSL* conn, const Config& config, const TlsContext& tls, Emitter& emitter) {
  auto started = Clock::now();
  EventLoop loop(conn, emitter);
  if (Outcome o = handshake(conn, config, tls, loop); !o.ok()) {
    if (o.status == Status::interrupted) abort_connection(conn);
    return o;
  }
  if (Outcome o = report_handshake(conn, emitter, started); !o.ok()) {
    abort_connection(conn);
    return o;
  }
  Outcome outcome;
  SslPtr stream = open_stream(conn, loop, emitter, outcome);
  if (!stream) {
    abort_connection(conn);
    return outcome;
  }
  apply_write_mode(stream.get(), config);
  Transferred moved;
  outcome = pipe_stream(conn, stream.get(), config, loop, emitter, started, moved);
  return finish_connection(conn, stream, config, loop, emitter, outcome, moved,
                           run_deadline(config, started));
}

Outcome run_blocking(SSL* conn, const Config& config, const TlsContext& tls, Emitter& emitter) {
  auto started = Clock::now();
  if (Outcome o = blocking_handshake(conn, config, &tls); !o.ok()) return o;
  if (Outcome o = report_handshake(conn, emitter, started); !o.ok()) {
    abort_connection(conn);
    return o;
  }
  // Blocks while the peer's stream limit is reached.
  SslPtr stream(SSL_new_stream(conn, 0));
  if (!stream) {
    Outcome o{Status::internal, "cannot open a stream: " + openssl_error_text()};
    abort_connection(conn);
    return o;
  }
  emitter.emit(StreamEvent{SSL_get_stream_id(stream.get()), StreamChange::opened, {}});
  apply_write_mode(stream.get(), config);
  BIO_POLL_DESCRIPTOR socket{};
  SSL_get_rpoll_descriptor(conn, &socket);
  BlockingPipe pipe(conn, stream.get(), config, emitter, socket.value.fd);
  Outcome outcome = pipe.run(started);
  // The close also ends the reader thread if it still waits on the stream.
  EventLoop loop(conn, emitter);
  outcome = finish_connection(conn, stream, config, loop, emitter, outcome, pipe.moved(),
                              run_deadline(config, started));
  pipe.join();
  return outcome;
}

}  // namespace

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ",") + s;
  return out;
}

Outcome run_client(const Config& config, Emitter& emitter) {
  // --connect-to dials elsewhere; the name checked and sent stays config.endpoint.host.
  Endpoint dial = config.endpoint;
  if (config.connect_to) {
    dial = *config.connect_to;
    if (dial.port == 0) dial.port = config.endpoint.port;
  }
  std::vector<SocketAddress> addresses;
  if (Outcome o = resolve(dial, false, config.address_family, addresses); !o.ok()) return o;
  ResolvedEvent resolved{dial.host, {}};
  for (const auto& a : addresses) resolved.addresses.push_back(a.to_string());
  emitter.emit(resolved);

  Outcome outcome;
  auto tls = TlsContext::for_client(config, outcome);
  if (!tls) return outcome;
  if (config.insecure)
    emitter.emit(WarningEvent{"--insecure: the server's certificate is NOT verified; anyone on "
                              "the path can read and change this connection"});
  enable_qlog(config.qlog_dir);
  if (emitter.wants_trace()) enable_trace(tls->get(), emitter);

  // The first address getaddrinfo prefers; QUIC over UDP gives no connect() failure to fall
  // back on, so trying the next address would only mean waiting for a handshake timeout.
  const SocketAddress& peer = addresses.front();
  UniqueFd fd;
  SocketAddress local;
  if (Outcome o = open_client_socket(peer, fd, local); !o.ok()) return o;
  emitter.emit(SocketEvent{local.to_string(), peer.to_string()});

  SslPtr conn = new_connection(config, *tls, fd.get(), peer, outcome);
  if (!conn) return outcome;

  emitter.emit(HandshakeStartEvent{peer.to_string()});
  Outcome outcome2 = config.driver == Driver::blocking
                         ? run_blocking(conn.get(), config, *tls, emitter)
                         : run_nonblocking(conn.get(), config, *tls, emitter);
  if (outcome2.status == Status::no_alpn)
    outcome2.message += "; we offered " + join(config.alpn) + " (--alpn)";
  return outcome2;
}

}  // namespace quicc

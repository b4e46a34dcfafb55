// The two drivers: the same phases and the same rules (TransferPolicy, Connection), two ways of
// waiting. Non-blocking: one thread, one poll() loop (event_loop.hpp). Blocking: OpenSSL's own
// blocking calls on worker threads, a control thread that decides (blocking.cpp).
#pragma once

#include <chrono>
#include <optional>
#include <vector>

#include <sys/socket.h>

#include "connection.hpp"
#include "session.hpp"
#include "tls.hpp"

namespace quicc {

struct HandshakeLimits {
  Clock::time_point deadline;      // give up (handshake_timeout) at this point
  bool next_address_after = false;  // the deadline is a per-address wait, not the last one
};

// What the pipe needs to know beyond the configuration.
struct PipeOptions {
  // The object whose socket and timers the wait follows: the connection, or for a listener's
  // connection, the listener (its connections share its socket).
  SSL* waiter = nullptr;
  // Our own idle timer, from the last datagram received (--idle-timeout): OpenSSL 3.5 cannot
  // offer one for a server, and a client's keep-alive PING restarts OpenSSL's.
  std::optional<std::chrono::milliseconds> local_idle;
};

// Completes the handshake; failures are described (verification, ALPN, timeout, ...).
Outcome handshake_nonblocking(Connection& conn, SSL* waiter, RunContext& run,
                              const HandshakeLimits& limits, const TlsContext* tls);
class Waker;
Outcome handshake_blocking(Connection& conn, RunContext& run, const HandshakeLimits& limits,
                           const TlsContext* tls, Waker& waker);

// Pipe mode over an established connection, to the end of the run; reports the connection's
// end (CloseEvent) before returning the run's outcome.
Outcome pipe_nonblocking(Connection& conn, RunContext& run, const PipeOptions& options);
Outcome pipe_blocking(Connection& conn, RunContext& run, const PipeOptions& options,
                      Waker& waker);

class Waker;
// `--get`: every request of the configuration over an established connection (fetch.hpp);
// reports the connection's end before returning the run's outcome.
Outcome fetch_nonblocking(Connection& conn, RunContext& run);
Outcome fetch_blocking(Connection& conn, RunContext& run, Waker& waker);

// A service listener (--echo, --serve, --sink, --source, --perf; service_stream.hpp): every stream
// of every connection served. With --keep-open, until an interrupt, --timeout or --idle-exit
// ends the run; without it, the first connection that completes its handshake is served
// alone, and its end (ServiceTally::outcome) is the run's.
Outcome service_nonblocking(SSL* listener, RunContext& run);
Outcome service_blocking(SSL* listener, int listener_fd, RunContext& run);

// The pipe listener with --keep-open (relay.hpp): each client's pipe runs as a single
// connection's would, under the same driver, with a Relay's pipes as its input and output; the
// run ends at an interrupt, --timeout, --idle-exit with no client, or when the output goes.
Outcome relay_nonblocking(SSL* listener, RunContext& run);
Outcome relay_blocking(SSL* listener, int listener_fd, RunContext& run);

// The warning for a client whose handshake was cut short because a listener without
// --keep-open is serving another.
inline constexpr const char* turned_away_text =
    "turned away: another connection is being served (--keep-open serves several)";

// Before a service listener closes its connections: resets every stream, so that their unsent
// echo is dropped and the ACKs of what is in flight make room in the congestion window for the
// CONNECTION_CLOSE (OpenSSL 3.5 ignores ACKs once a connection is closing; see
// TransferPolicy's clearing_). Waits at most 250 ms (and never past `deadline`) for the
// RESET_STREAM frames to leave. True if an interrupt came meanwhile (close rapidly then).
class EventLoop;
bool clear_for_close(const std::vector<Connection*>& connections, InterruptWatch& interrupts,
                     EventLoop& loop, uint64_t code, Clock::time_point deadline);

// A connection the listener accepted (null if none is waiting), set up as both drivers want:
// streams accepted explicitly, the driver's blocking mode, the wire callback (wire.hpp).
SslPtr accept_connection(SSL* listener, Driver driver, Emitter& emitter);
// One non-blocking step of the handshake of a connection a listener accepted at `accepted`:
// nullopt while it goes on; then ok (HandshakeDoneEvent emitted), or why it failed
// (--connect-timeout included). A failure is the client's: the caller warns and drops it.
std::optional<Outcome> step_accepted_handshake(Connection& conn, Clock::time_point accepted,
                                               const Config& config);
// The listener's own idle timer (--idle-timeout), if any; see listener.cpp.
std::optional<std::chrono::milliseconds> listener_idle_limit(const Config& config);
// --serve: when a connection that is answering no request is closed (code close_code_timeout,
// ServiceTally::no_request): the listener's idle timeout after `last_request`, the end of its
// handshake or of its last answer; nullopt when the rule does not apply. OpenSSL's keep-alive
// PINGs keep an idle client's connection alive (its datagrams restart the listener's idle
// timer), so without this a client that never sends its request, or never finishes it, would
// hold its connection (one of --max-conns) for ever.
std::optional<Clock::time_point> request_deadline(const Config& config,
                                                  Clock::time_point last_request);
// Closes `conn` as request_deadline says, reporting it in `tally`.
class ServiceTally;
void close_for_no_request(Connection& conn, ServiceTally& tally, Emitter& emitter,
                          const Config& config);
// The address of the client of a connection accept_connection returned, "" if unknown.
std::string accepted_peer_address(RunContext& run, SSL* conn);
// For a listener serving `open` connections (those in their handshake included): the next
// connection accepted and its client's address, null if none is waiting. One past --max-conns
// is refused here: a warning names its client, it is closed at once with close_code_refused,
// and the next is looked at.
SslPtr take_connection(SSL* listener, RunContext& run, size_t open, std::string& peer);

// Wakes threads blocked inside OpenSSL on a connection that is closing (OpenSSL 3.5 does not
// wake them itself when another thread closes it): a client shuts the reading side of its own
// UDP socket; a listener's socket is shared, so a datagram is sent to it instead ("poke").
class Waker {
 public:
  // `own_socket`: the client's socket (-1 for a listener); `listener_socket`: the listener's.
  Waker(int own_socket, int listener_socket);
  ~Waker();
  void wake();

 private:
  int own_socket_;
  int poke_socket_ = -1;
  sockaddr_storage target_{};
  socklen_t target_length_ = 0;
};

}  // namespace quicc

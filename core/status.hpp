// The closed set of ways a quicc run can end. Each maps 1:1 to a documented exit code
// (cli/exit_codes.cpp); nothing else in the program invents exit codes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace quicc {

enum class Status {
  ok,
  usage,              // bad command line or argument
  resolve_failed,     // host name could not be resolved
  handshake_timeout,  // no handshake within --connect-timeout
  handshake_failed,   // TLS/QUIC handshake failed for another reason
  verify_failed,      // peer certificate not trusted / pin mismatch / wrong name
  no_alpn,            // no application protocol agreed
  peer_transport_error,  // peer closed the connection with a transport error
  peer_app_error,        // peer closed the connection with an application error
  stream_reset,          // peer reset our stream
  idle_timeout,          // connection idled out
  io_error,              // local I/O failure (socket, stdin, stdout)
  output_closed,         // our stdout was closed by its reader (quicc ... | head)
  timeout,               // --timeout passed
  incomplete,            // the transfer ended without every byte delivered (see the contract)
  // Scripted checks and smoke tests (--expect, --check, --warn-days; issue 10).
  expect_failed,         // --expect: a pattern did not match the data received
  cert_expiring,         // the run succeeded, but the peer's certificate expires within --warn-days
  port_unreachable,      // ICMP port unreachable: nothing listens on the server's UDP port
  interrupted,           // SIGINT / SIGTERM / SIGHUP
  internal,              // anything else: a bug or an unexpected library failure
};

std::string_view status_name(Status s);

// A Status with the one-line explanation that goes to stderr.
struct Outcome {
  Status status = Status::ok;
  std::string message;
  int signal = 0;  // Status::interrupted: the signal that did it (exit 128 + signal)
  // Bytes from the peer that the message ends with (expect_failed: the first bytes received),
  // raw: whoever shows the message appends them quoted and escaped (cli/safe_text).
  std::optional<std::string> peer_data;

  bool ok() const { return status == Status::ok; }
};

}  // namespace quicc

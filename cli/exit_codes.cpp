#include "exit_codes.hpp"

#include <csignal>

namespace quicc::cli {

namespace {

// Codes are stable once released: scripts depend on them. Interrupts follow the shell's
// 128 + signal convention.
constexpr ExitCode table[] = {
    {Status::ok, 0,
     "success: every byte the peer sent up to its FIN reached stdout and everything we sent "
     "was acknowledged"},
    {Status::internal, 1, "internal or unexpected library error"},
    {Status::usage, 2, "usage error: bad option, argument or file"},
    {Status::resolve_failed, 3, "host name could not be resolved"},
    {Status::handshake_timeout, 4, "handshake timed out (--connect-timeout)"},
    {Status::handshake_failed, 5, "handshake failed"},
    {Status::verify_failed, 6, "peer certificate verification failed (CA, name or pin)"},
    {Status::no_alpn, 7, "no ALPN protocol agreed"},
    {Status::peer_transport_error, 8, "peer closed the connection with a transport error"},
    {Status::peer_app_error, 9, "peer closed the connection with an application error"},
    {Status::stream_reset, 10, "peer reset the stream or stopped reading it"},
    {Status::idle_timeout, 11, "idle: QUIC idle timeout, or no data for --idle-exit"},
    {Status::io_error, 12, "local I/O error (socket, stdin, stdout)"},
    {Status::output_closed, 13, "output closed by its reader (quicc ... | head), or stdout closed"},
    {Status::timeout, 14, "--timeout reached"},
    {Status::incomplete, 15,
     "transfer incomplete: the peer closed before its FIN, or data we sent was not "
     "acknowledged (the message says how many bytes)"},
    // Scripted checks and smoke tests (--expect, --check, --warn-days).
    {Status::expect_failed, 16, "--expect found no match in the received data"},
    {Status::cert_expiring, 17,
     "peer certificate expires within --warn-days (after everything else succeeded)"},
    {Status::port_unreachable, 18,
     "nothing listens on the server's UDP port (ICMP port unreachable)"},
    {Status::interrupted, 129, "interrupted by SIGHUP"},
    {Status::interrupted, 130, "interrupted by SIGINT"},
    {Status::interrupted, 143, "interrupted by SIGTERM"},
};

}  // namespace

std::span<const ExitCode> exit_code_table() { return table; }

int exit_code_for(Status status) {
  if (status == Status::interrupted) return 128 + SIGINT;
  for (const auto& e : table)
    if (e.status == status) return e.code;
  return 1;
}

int exit_code_for(const Outcome& outcome) {
  if (outcome.status == Status::interrupted && outcome.signal > 0) return 128 + outcome.signal;
  return exit_code_for(outcome.status);
}

}  // namespace quicc::cli

#include "status.hpp"

#include "events.hpp"

namespace quicc {

std::string_view status_name(Status s) {
  switch (s) {
    case Status::ok: return "ok";
    case Status::usage: return "usage";
    case Status::resolve_failed: return "resolve_failed";
    case Status::handshake_timeout: return "handshake_timeout";
    case Status::handshake_failed: return "handshake_failed";
    case Status::verify_failed: return "verify_failed";
    case Status::no_alpn: return "no_alpn";
    case Status::peer_transport_error: return "peer_transport_error";
    case Status::peer_app_error: return "peer_app_error";
    case Status::stream_reset: return "stream_reset";
    case Status::idle_timeout: return "idle_timeout";
    case Status::io_error: return "io_error";
    case Status::output_closed: return "output_closed";
    case Status::timeout: return "timeout";
    case Status::incomplete: return "incomplete";
    case Status::expect_failed: return "expect_failed";
    case Status::cert_expiring: return "cert_expiring";
    case Status::port_unreachable: return "port_unreachable";
    case Status::interrupted: return "interrupted";
    case Status::internal: return "internal";
  }
  return "internal";
}

const char* stream_change_name(StreamChange c) {
  switch (c) {
    case StreamChange::opened: return "opened";
    case StreamChange::accepted: return "accepted";
    case StreamChange::fin_sent: return "fin_sent";
    case StreamChange::fin_received: return "fin_received";
    case StreamChange::reset_sent: return "reset_sent";
    case StreamChange::reset_received: return "reset_received";
  }
  return "?";
}

const char* peer_stream_change_name(PeerStreamChange c) {
  switch (c) {
    case PeerStreamChange::rejected: return "rejected";
    case PeerStreamChange::text: return "text";
    case PeerStreamChange::saving: return "saving";
    case PeerStreamChange::ended: return "ended";
  }
  return "?";
}

}  // namespace quicc

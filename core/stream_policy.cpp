#include "stream_policy.hpp"

#include <cstdio>
#include <string>

#include "close_info.hpp"

namespace quicc {

namespace {

std::string bytes_text(uint64_t n) { return std::to_string(n) + (n == 1 ? " byte" : " bytes"); }

}  // namespace

void StreamPolicy::observe(const StreamFacts& f) {
  if (!f.reset_received || peer_reset_seen_) return;
  peer_reset_seen_ = true;
  peer_reset_answers_ours_ = f.reset_sent && *f.reset_received == 0;
}

StreamStep StreamPolicy::next(const StreamFacts& f) {
  StreamStep s;
  s.read_input = !f.input_eof && !sending_over(f);
  s.read_stream = !reading_over(f);
  // Source EOF with every byte handed to the stream: --on-eof says what ends our side.
  if (!f.input_eof || f.sent != f.input_read || sending_over(f) || end_requested_) return s;
  // The client tells an empty source with a FIN on a new stream, so that a peer waiting for it
  // learns. A listener opens no stream just to end its side: it ends it on the client's stream
  // once that arrives (this rule is looked at again every turn).
  bool wait_for_stream = !f.stream_open && settings_.role == Role::listener;
  switch (settings_.on_eof) {
    case EofPolicy::fin:
      if (!wait_for_stream) s.send_fin = true;
      break;
    case EofPolicy::close:
      // Closing with nothing sent opens no stream: `--on-eof close </dev/null` is a pure
      // handshake check, even against an HTTP/3 server.
      if (!f.stream_open && f.sent == 0) nothing_to_send_ = true;
      else s.send_fin = true;
      break;
    case EofPolicy::reset:
      if (!wait_for_stream) s.reset_stream = settings_.eof_reset_code;
      break;
    case EofPolicy::ignore:
      break;
  }
  end_requested_ = s.send_fin || s.reset_stream.has_value();
  return s;
}

bool StreamPolicy::finished(const StreamFacts& f) const {
  bool received_all = (f.fin_received || stopped_at_match(f)) && f.written == f.received;
  // Unmet expectations keep the receiving side open until the peer's data ends.
  bool expectations_settled = settings_.expect == ExpectMode::none ||
                              (reading_over(f) && f.written == f.received);
  switch (settings_.on_eof) {
    case EofPolicy::fin: return sending_over(f) && received_all;
    // What already arrived is written out before the close (it is a local write): a close
    // that overtook it would lose it.
    case EofPolicy::close:
    case EofPolicy::reset: return sending_over(f) && expectations_settled && f.written == f.received;
    case EofPolicy::ignore: return received_all;
  }
  return false;
}

Outcome StreamPolicy::verdict(const StreamFacts& f, bool peer_closed) const {
  if (f.reset_received && !peer_reset_answers_ours(f))
    return {Status::stream_reset,
            *f.reset_received == stream_code_unknown
                ? std::string("peer reset the stream (its code was lost with the connection's close)")
                : "peer reset the stream (code " + hex_code(*f.reset_received) + ")"};
  if (peer_closed && f.receive_moved)
    return {Status::incomplete,
            "peer closed the connection before the stream with its data arrived"};
  // Data after a match of every --expect pattern was left unread on purpose.
  if (peer_closed && !f.fin_received && !f.reset_received && f.received > 0 &&
      !stopped_at_match(f))
    return {Status::incomplete, "peer closed the connection before its FIN, after " +
                                    bytes_text(f.received)};
  if (f.written < f.received)
    return {Status::incomplete,
            bytes_text(f.received - f.written) + " received were not written to the output"};
  if (f.input_read > f.sent)
    return {Status::incomplete, bytes_text(f.input_read - f.sent) +
                                    " of input were never sent: the connection closed first"};
  if (peer_closed && f.unacked > 0 && !exchange_complete(f))
    return {Status::incomplete, "peer closed the connection with " + bytes_text(f.unacked) +
                                    " we sent unacknowledged"};
  return {};
}

}  // namespace quicc

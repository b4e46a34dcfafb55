// --check's report: what a handshake with the server showed (protocol, TLS parameters, its
// certificate, timings, resumption and tickets, the close), gathered from the engine's events on
// their way to the log as the summary is (stats.hpp), and printed on stdout: `key: value` lines
// for people, or one JSON object (--json) for scripts.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/log_sink.hpp"
#include "core/events.hpp"

namespace quicc::cli {

// Everything a check learned; the parts it did not get to stay empty (a failed handshake has
// no ALPN, a verification failure still has the certificate).
struct CheckFacts {
  std::string peer;  // the address of the last handshake attempt
  std::optional<HandshakeDoneEvent> handshake;
  std::optional<PeerCertificate> certificate;
  unsigned tickets = 0;
  std::string ticket_saved_to;  // --session-out, once a ticket was written there
  std::optional<CloseEvent> close;
};

class CheckCollector : public EventSink {
 public:
  explicit CheckCollector(EventSink& next) : next_(next) {}

  void on_event(const Event& event) override;
  bool wants_ticks() const override { return next_.wants_ticks(); }
  bool wants_trace() const override { return next_.wants_trace(); }

  const CheckFacts& facts() const { return facts_; }

 private:
  EventSink& next_;
  CheckFacts facts_;
};

// How the client decided to trust the certificate.
enum class Trust {
  verified,  // CA and name (the system store, --cafile, --capath)
  pinned,    // --pin-sha256
  none,      // --insecure
};

// The report's fields, in the order they are printed: status and exit code first (and the
// error, for a check that failed), then what was learned.
std::vector<Field> check_fields(const CheckFacts& facts, Trust trust, const Outcome& outcome,
                                int exit_code);

// "key: value" lines; peer text escaped as the log escapes it, yes/no for booleans, lists
// joined with ", ".
std::string check_text(const std::vector<Field>& fields);
// One JSON object on one line (newline included); lists are arrays.
std::string check_json(const std::vector<Field>& fields);

}  // namespace quicc::cli

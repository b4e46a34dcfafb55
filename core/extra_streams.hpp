// Pipe mode's answer to the streams the peer opens beyond the pipe's own (a second
// bidirectional stream, or any unidirectional one), chosen by --peer-streams. Both drivers ask
// ExtraStreamRules what to do with such a stream and hand what they read from an accepted one
// to an ExtraStreamReader; they only make the OpenSSL calls. Nothing here touches the pipe:
// extra streams never change its facts, and so never its outcome or exit code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/ssl.h>

#include "config.hpp"
#include "events.hpp"

namespace quicc {

// What to do with an extra stream as soon as it is accepted.
struct ExtraStreamPlan {
  bool warn = false;                   // ignore: a warning; the stream is left unread
  std::optional<uint64_t> reset_code;  // reject, bidirectional: reset our sending half
  bool stop_reading = false;           // reject: free it, which sends STOP_SENDING
  bool read = false;                   // accept: read it to its FIN or reset
  bool operator==(const ExtraStreamPlan&) const = default;
};

class ExtraStreamRules {
 public:
  ExtraStreamRules(PeerStreams policy, uint64_t reject_code)
      : policy_(policy), reject_code_(reject_code) {}

  ExtraStreamPlan opened(bool bidi) const;
  // An accepted stream's receiving half ended (FIN or reset): our sending half, if it has
  // one, gets an empty FIN, so that the peer sees a stream that ended cleanly.
  static bool fin_ours_when_ended(bool bidi) { return bidi; }

 private:
  PeerStreams policy_;
  uint64_t reject_code_;
};

// Cuts a stream's bytes into log lines: each complete line as it comes (without its newline),
// the rest at the end. A line longer than max_line is shown in pieces, so that a peer sending
// no newline cannot make us buffer without bound.
class PeerTextLines {
 public:
  static constexpr size_t max_line = 4096;
  std::vector<std::string> add(std::string_view bytes);
  std::optional<std::string> finish();

 private:
  std::string partial_;
};

// One accepted extra stream's bytes: shown as log lines ("stream N: ...", the sink escapes
// them), or saved to output_dir/stream-N. Reports the stream's end. Used by one thread at a
// time.
class ExtraStreamReader {
 public:
  ExtraStreamReader(uint64_t id, const std::string& output_dir, Emitter& emitter);
  ~ExtraStreamReader();
  ExtraStreamReader(const ExtraStreamReader&) = delete;
  ExtraStreamReader& operator=(const ExtraStreamReader&) = delete;

  // False once the file cannot be written (reported as a warning): stop reading the stream.
  bool data(const unsigned char* bytes, size_t n);
  // The peer's side ended: with its FIN (no code) or a reset with `reset_code`.
  void ended(std::optional<uint64_t> reset_code);

 private:
  uint64_t id_;
  Emitter& emitter_;
  std::string path_;  // empty: shown on stderr
  int fd_ = -1;
  uint64_t bytes_ = 0;
  bool failed_ = false;
  PeerTextLines lines_;
};

class Connection;

// The OpenSSL side, shared by both drivers.
// Carries out the plan for an extra stream `conn` just accepted: warns, or resets and frees
// it, or says it is to be read (true).
bool start_extra_stream(Connection& conn, SSL* stream, const ExtraStreamRules& rules);
// After a read of an accepted extra stream failed (not for want of data): reports its end to
// `reader` (a FIN, or the peer's reset and its code) and concludes our sending half (not for
// a stream a person opened with ~n: they end it). False when it ended otherwise (the
// connection closed: its end is reported by its owner).
bool finish_extra_stream(Connection& conn, SSL* stream, ExtraStreamReader& reader, bool fin,
                         bool conclude_ours = true);

}  // namespace quicc

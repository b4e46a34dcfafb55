// --expect: patterns that must all match the data the peer sends on the pipe's stream. Pure, no
// I/O, the same object under both drivers: the driver feeds it every chunk it reads from the
// stream, in order, and learns when every pattern has matched (with --expect-close unset, it then
// stops reading: StreamPolicy's ExpectMode::stop_at_match); at the end, verdict() turns the run's
// outcome into Status::expect_failed if a pattern never matched.
//
// The rules:
// - Patterns are ECMAScript regular expressions (std::regex) with `multiline`: ^ and $ match at
//   line breaks too. They run on libstdc++'s linear-time (breadth-first) executor: its default
//   one recurses once per byte and overflowed the stack on 64 KiB of data; the price is that
//   back-references (\1) are refused (a usage error).
// - The first `search_limit` bytes received (1 MiB) are searched; later bytes still go to the
//   output, unsearched.
// - Each chunk is searched as it arrives, together with up to `window` bytes (8 KiB) before it:
//   a match that begins further back is found only by the search of everything that the
//   verdict makes at the end of the run (so reading does not stop at it). Searching everything
//   for each chunk would cost the whole buffer per chunk: seconds for 1 MiB in small chunks.
// - At the end of the data so far, $ and \b do not match (more may follow on that line) until
//   the peer's FIN has come (data_ended()).
// - The verdict: a run that ended well, at --timeout or --idle-exit (or at the QUIC idle timeout),
//   or incomplete, becomes expect_failed when a pattern did not match; any other failure (the
//   peer's error or reset, a local error, an interrupt) stays as it is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "status.hpp"

namespace quicc {

class Expectations {
 public:
  static constexpr size_t search_limit = size_t{1} << 20;
  static constexpr size_t window = size_t{8} << 10;
  static constexpr size_t shown_bytes = 64;  // of the data received, in the failure's message

  // Whether `pattern` compiles as the matcher compiles it; the reason if not (without the
  // pattern itself).
  static std::optional<std::string> invalid(const std::string& pattern);

  // Every pattern valid (see invalid()); one that is not never matches. No patterns: inactive,
  // every call is cheap and verdict() changes nothing.
  explicit Expectations(const std::vector<std::string>& patterns);

  bool active() const { return !patterns_.empty(); }
  // A chunk received, in order. True when every pattern has matched (now or before).
  bool feed(const void* data, size_t n);
  // The peer's FIN came: nothing follows the data fed so far.
  void data_ended();
  bool met() const { return unmatched_ == 0; }
  uint64_t received() const { return received_; }

  // The run's outcome, judged (see above); searches everything buffered once more first.
  Outcome verdict(const Outcome& run);

 private:
  struct Pattern {
    std::string text;
    std::optional<std::regex> regex;
    bool matched = false;
  };
  // Looks for every unmatched pattern in buffer_[from, end).
  void search(size_t from);

  std::vector<Pattern> patterns_;
  size_t unmatched_ = 0;
  std::string buffer_;  // the first search_limit bytes received, while a pattern is unmatched
  std::string head_;    // the first shown_bytes received
  uint64_t received_ = 0;
  bool ended_ = false;
};

}  // namespace quicc

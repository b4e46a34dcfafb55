#include "expect.hpp"

#include <algorithm>
#include <mutex>

namespace quicc {

namespace {

constexpr std::regex::flag_type syntax = std::regex::ECMAScript | std::regex::multiline
#ifdef __GLIBCXX__
                                         // libstdc++'s breadth-first executor: linear in the
                                         // data, no recursion per byte (see expect.hpp).
                                         | std::regex_constants::__polynomial
#endif
    ;

// std::regex compiles and matches through the global locale's ctype<char>, whose narrow()
// fills a cache without a lock (libstdc++; ThreadSanitizer saw two threads write it when the
// unit tests ran a client and a listener with --expect in one process). In quicc one pipe does
// all the regex work, one thread at a time; the lock, uncontended there, keeps two apart.
std::mutex regex_mutex;

std::string bytes_text(uint64_t n) { return std::to_string(n) + (n == 1 ? " byte" : " bytes"); }

// Why a pattern does not compile: the library's words, but for the one limit that is ours.
std::string reason(const std::regex_error& e) {
  // libstdc++'s linear-time executor has no back-references.
  if (e.code() == std::regex_constants::error_complexity)
    return "back-references (\\1) are not supported";
  return e.what();
}

// `pattern` for a search in one pass: anchored at the start of the range (match_continuous),
// with a lazy prefix that skips ahead, the breadth-first executor runs over the data once
// instead of once per starting position. A pattern that compiles alone has balanced
// parentheses, so the group cannot be closed early by the pattern.
std::string one_pass(const std::string& pattern) { return "[\\s\\S]*?(?:" + pattern + ")"; }

// The one-pass regex of `pattern` (see one_pass), or why it does not compile.
std::optional<std::regex> compile(const std::string& pattern, std::string& why) {
  std::lock_guard lock(regex_mutex);
  try {
    std::regex alone(pattern, syntax);  // checked alone: the wrapper could hide a stray ')'
    return std::regex(one_pass(pattern), syntax);
  } catch (const std::regex_error& e) {
    why = reason(e);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> Expectations::invalid(const std::string& pattern) {
  std::string why;
  if (compile(pattern, why)) return std::nullopt;
  return why;
}

Expectations::Expectations(const std::vector<std::string>& patterns) {
  for (const auto& text : patterns) {
    std::string why;
    patterns_.push_back({text, compile(text, why), false});
  }
  unmatched_ = patterns_.size();
  if (active()) search(0);  // a pattern may match nothing at all: ''
}

void Expectations::search(size_t from) {
  if (met()) return;
  auto flags = std::regex_constants::match_continuous;
  // ^ and \b at the start of the range look at the byte before it.
  if (from > 0) flags |= std::regex_constants::match_prev_avail;
  // The end of the data so far is no line or word end while more may follow (or when the
  // buffer stops short of the data's end, at search_limit).
  if (!ended_ || received_ != buffer_.size()) flags |= std::regex_constants::match_not_eol | std::regex_constants::match_not_eow;
  const char* begin = buffer_.data() + from;
  const char* end = buffer_.data() + buffer_.size();
  std::lock_guard lock(regex_mutex);
  for (Pattern& p : patterns_) {
    if (p.matched || !p.regex) continue;
    bool found = false;
    try {
      found = std::regex_search(begin, end, *p.regex, flags);
    } catch (const std::regex_error&) {
      found = false;  // the library gave up on this data: no match
    }
    if (found) {
      p.matched = true;
      --unmatched_;
    }
  }
  if (met()) {
    buffer_.clear();
    buffer_.shrink_to_fit();
  }
}

bool Expectations::feed(const void* data, size_t n) {
  if (!active() || n == 0) return met();
  const char* bytes = static_cast<const char*>(data);
  received_ += n;
  if (head_.size() < shown_bytes) head_.append(bytes, std::min(n, shown_bytes - head_.size()));
  if (met() || buffer_.size() >= search_limit) return met();
  size_t before = buffer_.size();
  buffer_.append(bytes, std::min(n, search_limit - before));
  search(before > window ? before - window : 0);
  return met();
}

void Expectations::data_ended() {
  if (ended_ || !active()) return;
  ended_ = true;
  // $ and \b may match at the very end now.
  if (received_ <= search_limit) search(buffer_.size() > window ? buffer_.size() - window : 0);
}

Outcome Expectations::verdict(const Outcome& run) {
  if (!active()) return run;
  // Matches that begin more than a window before their end were not looked for as data came.
  if (buffer_.size() > window) search(0);
  if (met()) return run;
  switch (run.status) {
    case Status::ok:
    case Status::timeout:
    case Status::idle_timeout:
    case Status::incomplete:
      break;
    default:
      return run;  // a failure of its own says more
  }
  std::string context = received_ == 0 ? "nothing received" : bytes_text(received_) + " received";
  if (run.ok())
    context += ended_ ? " up to the peer's FIN" : " before the connection closed";
  else
    context += "; " + run.message;
  if (received_ > search_limit) context += "; only the first 1 MiB is searched";

  std::vector<std::string> missing;
  for (const Pattern& p : patterns_)
    if (!p.matched) missing.push_back("'" + p.text + "'");
  std::string list;
  for (size_t i = 0; i < missing.size(); ++i)
    list += (i == 0 ? "" : i + 1 == missing.size() ? " and " : ", ") + missing[i];

  Outcome out{Status::expect_failed,
              "--expect found no match in the received data (" + context + "): " + list +
                  (missing.size() == 1 ? " did not match" : " did not match (" +
                                                                 std::to_string(missing.size()) + " of " +
                                                                 std::to_string(patterns_.size()) + ")")};
  if (received_ > 0) {
    out.message += received_ > head_.size() ? "; the first " + bytes_text(head_.size()) + ":"
                                            : "; received:";
    out.peer_data = head_;
  }
  return out;
}

}  // namespace quicc

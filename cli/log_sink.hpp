// Shows engine events: errors and the listener's address and fingerprint always, milestones at
// -v, every event-loop turn at -vv, the TLS/QUIC message trace at -vvv. As text or as JSON
// Lines (one object per event, stable field names), on stderr or in a file.
#pragma once

#include <spdlog/logger.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/events.hpp"

namespace quicc::cli {

enum class LogFormat { text, json };

// A list of strings: a JSON array, one comma-separated value in text. Shared and immutable: a
// std::vector held directly in FieldValue makes GCC 12 warn (wrongly) of uninitialized use
// wherever fields are built.
struct TextList {
  explicit TextList(std::vector<std::string> items)
      : items_(std::make_shared<const std::vector<std::string>>(std::move(items))) {}
  const std::vector<std::string>& items() const { return *items_; }

 private:
  std::shared_ptr<const std::vector<std::string>> items_;
};

using FieldValue = std::variant<std::string, uint64_t, double, bool, int64_t, TextList>;

struct Field {
  std::string_view key;
  FieldValue value;
};

// An event as a name and named fields: the one description both formats are made from.
struct EventRecord {
  std::string_view name;
  std::vector<Field> fields;
};

EventRecord record_of(const EventData& data);
// The same, with the connection the event is about (Event::connection), if any.
EventRecord record_of(const Event& event);

// The functions below are the only way event text reaches a sink. Whatever bytes a peer put in
// a field, their text is safe to print on a terminal and their JSON is valid UTF-8; the rules
// are those of safe_text.hpp.

// The text of an event shown at every verbosity (error, warning, listening address,
// certificate), after "quicc: ": it keeps one fixed shape that scripts look for
// ("quicc: listening on ADDR"). Empty for other events.
std::string notice_text(const EventData& data);
// The same, naming the connection the event is about (Event::connection), if any.
std::string notice_text(const Event& event);

// An outcome's message for people: the message, then the peer's bytes it refers to
// (Outcome::peer_data), quoted and escaped: `... received: "hello\r\n"`.
std::string outcome_text(const Outcome& outcome);

// One line for the event, without time prefix: "tick wake=timeout next_timeout_ms=12.5 ...".
std::string format_text(const EventRecord& record);
// One JSON object: {"t_ms":1.234,"event":"tick","wake":"timeout",...}.
std::string format_json(const EventRecord& record, std::chrono::microseconds since_start);
// Fields as JSON members, without braces: "a":1,"b":"x".
std::string json_members(const std::vector<Field>& fields);
// Fields as "key: value" lines, for people.
std::string text_lines(const std::vector<Field>& fields);

// The progress meter's text: "in 1.2 MB (600.0 kB/s), out 0 B (0 B/s), 2 s".
std::string progress_text(uint64_t in, uint64_t out, double in_rate, double out_rate,
                          double seconds);

class LogSink : public EventSink {
 public:
  // `log_file` empty: log to stderr. Throws std::runtime_error when the file cannot be opened.
  LogSink(int verbosity, LogFormat format, const std::string& log_file);
  void on_event(const Event& event) override;
  bool wants_ticks() const override { return verbosity_ >= 2; }
  bool wants_trace() const override { return verbosity_ >= 3; }
  // Erases the progress meter's line, if one is drawn (at the end of the run).
  void clear_progress();

 private:
  void draw_progress(const ProgressEvent& e);
  int verbosity_;
  LogFormat format_;
  bool to_file_;
  std::shared_ptr<spdlog::logger> logger_;
  std::shared_ptr<spdlog::logger> stderr_;
  // The progress meter: drawn on stderr, over itself ("\r ... ESC[K"); erased before any other
  // line goes to stderr, and at the end.
  bool meter_drawn_ = false;
  struct Sample {
    std::chrono::microseconds at;
    uint64_t in, out;
  };
  std::vector<Sample> samples_;  // the last second's, for the current rates
};

}  // namespace quicc::cli

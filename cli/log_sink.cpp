#include "log_sink.hpp"

#include <fmt/format.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "cli/safe_text.hpp"

namespace quicc::cli {

namespace {

std::string wake_text(unsigned wake) {
  static constexpr std::pair<unsigned, const char*> names[] = {
      {wake_timeout, "timeout"},       {wake_net_readable, "net_readable"},
      {wake_net_writable, "net_writable"}, {wake_input, "input"},
      {wake_output, "output"},         {wake_signal, "signal"}};
  std::string out;
  for (auto [bit, name] : names) {
    if (!(wake & bit)) continue;
    if (!out.empty()) out += '|';
    out += name;
  }
  return out.empty() ? "start" : out;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ",") + s;
  return out;
}

double ms(uint64_t us) { return static_cast<double>(us) / 1000.0; }

// Decimal megabytes (10^6 bytes) per second; 0 for a stream that took no measurable time.
double megabytes_per_second(uint64_t bytes, std::chrono::microseconds duration) {
  if (duration.count() <= 0) return 0;
  return static_cast<double>(bytes) / static_cast<double>(duration.count());
}

// Events shown at every verbosity: what a user of `nc -l`, or of a run that failed, needs.
bool always_shown(const EventData& data) {
  return std::holds_alternative<ErrorEvent>(data) || std::holds_alternative<ListeningEvent>(data) ||
         std::holds_alternative<CertificateEvent>(data) || std::holds_alternative<WarningEvent>(data) ||
         std::holds_alternative<PeerStreamEvent>(data) ||
         std::holds_alternative<StreamReportEvent>(data) ||
         std::holds_alternative<StatusEvent>(data) || std::holds_alternative<NoteEvent>(data);
}

struct Record {
  EventRecord operator()(const ResolvedEvent& e) const {
    return {"resolved", {{"host", e.host}, {"addresses", join(e.addresses)}}};
  }
  EventRecord operator()(const SocketEvent& e) const {
    return {"socket", {{"local", e.local}, {"peer", e.peer}}};
  }
  EventRecord operator()(const ListeningEvent& e) const {
    return {"listening", {{"local", e.local}}};
  }
  EventRecord operator()(const CertificateEvent& e) const {
    return {"certificate", {{"sha256", e.fingerprint_sha256}, {"ephemeral", e.ephemeral}}};
  }
  EventRecord operator()(const HandshakeStartEvent& e) const {
    EventRecord r{"handshake_start", {{"peer", e.peer}}};
    if (e.attempts > 1) {
      r.fields.push_back({"attempt", uint64_t{e.attempt}});
      r.fields.push_back({"of", uint64_t{e.attempts}});
    }
    return r;
  }
  EventRecord operator()(const HandshakeDoneEvent& e) const {
    EventRecord r{"handshake_done",
                  {{"alpn", e.alpn},
                   {"cipher", e.cipher},
                   {"group", e.group},
                   {"peer_subject", e.peer_subject},
                   {"peer_issuer", e.peer_issuer},
                   {"peer_not_after", e.peer_not_after},
                   {"verify", e.verify_result},
                   {"resumed", e.resumed},
                   {"handshake_ms", ms(e.handshake_us)}}};
    if (e.rtt_us) r.fields.push_back({"rtt_ms", ms(*e.rtt_us)});
    r.fields.push_back({"tls_version", e.tls_version});
    r.fields.push_back({"session_offered", e.session_offered});
    return r;
  }
  EventRecord operator()(const PeerCertificateEvent& e) const {
    const PeerCertificate& c = e.certificate;
    return {"peer_certificate",
            {{"subject", c.subject},
             {"issuer", c.issuer},
             {"names", TextList(c.names)},
             {"not_before", iso8601_utc(c.not_before)},
             {"not_after", iso8601_utc(c.not_after)},
             {"days_left", c.days_left},
             {"sha256", c.sha256}}};
  }
  EventRecord operator()(const SessionTicketEvent& e) const {
    EventRecord r{"session_ticket", {}};
    if (!e.saved_to.empty()) r.fields.push_back({"saved_to", e.saved_to});
    return r;
  }
  EventRecord operator()(const ConnectionAcceptedEvent& e) const {
    return {"connection_accepted", {{"index", e.index}, {"peer", e.peer}}};
  }
  EventRecord operator()(const TickEvent& e) const {
    return {"tick",
            {{"wake", wake_text(e.wake)},
             {"next_timeout_ms",
              e.next_timeout_us ? FieldValue(ms(static_cast<uint64_t>(*e.next_timeout_us)))
                                : FieldValue(std::string("infinite"))},
             {"read_desired", e.net_read_desired},
             {"write_desired", e.net_write_desired},
             {"bytes_in", e.bytes_in},
             {"bytes_out", e.bytes_out}}};
  }
  EventRecord operator()(const StreamEvent& e) const {
    EventRecord r{"stream", {{"id", e.stream_id}, {"change", std::string(stream_change_name(e.change))}}};
    if (e.error_code) r.fields.push_back({"code", *e.error_code});
    return r;
  }
  EventRecord operator()(const PeerStreamEvent& e) const {
    EventRecord r{"peer_stream",
                  {{"id", e.stream_id}, {"change", std::string(peer_stream_change_name(e.change))}}};
    if (e.change == PeerStreamChange::text) r.fields.push_back({"text", e.text});
    if (e.change != PeerStreamChange::text && !e.text.empty()) r.fields.push_back({"file", e.text});
    if (e.code) r.fields.push_back({"code", *e.code});
    if (e.change == PeerStreamChange::ended) r.fields.push_back({"bytes", e.bytes});
    return r;
  }
  EventRecord operator()(const InputClosedEvent&) const { return {"input_closed", {}}; }
  EventRecord operator()(const FirstByteEvent& e) const { return {"first_byte", {{"id", e.stream_id}}}; }
  EventRecord operator()(const StatusEvent& e) const {
    return {"status",
            {{"bytes_in", e.bytes_in},
             {"bytes_out", e.bytes_out},
             {"elapsed_ms", static_cast<double>(e.elapsed.count()) / 1000.0},
             {"streams", uint64_t{e.streams}}}};
  }
  EventRecord operator()(const NoteEvent& e) const { return {"note", {{"text", e.text}}}; }
  EventRecord operator()(const ProgressEvent& e) const {
    return {"progress",
            {{"bytes_in", e.bytes_in},
             {"bytes_out", e.bytes_out},
             {"elapsed_ms", static_cast<double>(e.elapsed.count()) / 1000.0}}};
  }
  EventRecord operator()(const PerfEvent& e) const {
    return {"perf",
            {{"final", e.final},
             {"from_ms", static_cast<double>(e.from.count()) / 1000.0},
             {"to_ms", static_cast<double>(e.to.count()) / 1000.0},
             {"bytes_up", e.bytes_up},
             {"bytes_down", e.bytes_down},
             {"requests_done", e.requests_done},
             {"streams", e.streams}}};
  }
  EventRecord operator()(const CommandEvent& e) const {
    return {"command", {{"name", std::string(1, e.letter)}, {"text", e.text}}};
  }
  EventRecord operator()(const TraceEvent& e) const {
    return {"trace", {{"direction", std::string(e.sent ? "sent" : "received")}, {"text", e.text}}};
  }
  EventRecord operator()(const ShutdownEvent& e) const {
    return {"shutdown", {{"complete", e.complete}}};
  }
  EventRecord operator()(const CloseEvent& e) const {
    EventRecord r{"close",
                  {{"by", std::string(e.local ? "local" : "peer")},
                   {"kind", std::string(e.transport ? "transport" : "application")},
                   {"code", e.error_code},
                   {"frame_type", e.frame_type},
                   {"reason", e.reason},
                   {"bytes_in", e.bytes_in},
                   {"bytes_out", e.bytes_out},
                   {"bytes_unacked", e.bytes_unacked}}};
    if (!e.closing_period.empty()) r.fields.push_back({"closing_period", e.closing_period});
    return r;
  }
  EventRecord operator()(const WarningEvent& e) const { return {"warning", {{"message", e.text}}}; }
  EventRecord operator()(const KeyUpdateEvent& e) const {
    return {"key_update", {{"after_bytes", e.after_bytes}}};
  }
  EventRecord operator()(const ResponseEvent& e) const {
    return {"response",
            {{"path", e.path},
             {"stream", e.stream_id},
             {"bytes", e.bytes},
             {"ms", ms(e.took_us)},
             {"saved_to", e.saved_to}}};
  }
  EventRecord operator()(const StreamReportEvent& e) const {
    double seconds = static_cast<double>(e.duration.count()) / 1e6;
    return {"stream_report",
            {{"id", e.stream_id},
             {"bytes", e.bytes},
             {"seconds", seconds},
             {"mb_per_s", megabytes_per_second(e.bytes, e.duration)}}};
  }
  EventRecord operator()(const ErrorEvent& e) const {
    EventRecord r{"error",
                  {{"status", std::string(status_name(e.outcome.status))},
                   {"message", e.outcome.message}}};
    if (e.outcome.peer_data) r.fields.push_back({"received", *e.outcome.peer_data});
    return r;
  }
};

struct JsonValue {
  std::string operator()(const std::string& s) const { return json_string(s); }
  std::string operator()(uint64_t v) const { return std::to_string(v); }
  std::string operator()(int64_t v) const { return std::to_string(v); }
  std::string operator()(double v) const { return fmt::format("{:.3f}", v); }
  std::string operator()(bool v) const { return v ? "true" : "false"; }
  std::string operator()(const TextList& list) const {
    std::string out;
    for (const auto& s : list.items()) out += (out.empty() ? "" : ",") + json_string(s);
    return "[" + out + "]";
  }
};

struct TextValue {
  // A value is shown plain only when it needs no escaping and cannot be mistaken for several
  // fields; otherwise it is quoted, and inside quotes every backslash starts an escape. So a
  // plain value is always literal text, and a peer cannot forge one that looks escaped.
  std::string operator()(const std::string& s) const {
    bool plain =
        !s.empty() && s.find_first_of(" \"=") == std::string::npos && terminal_text(s) == s;
    return plain ? s : quoted_terminal_text(s);
  }
  std::string operator()(uint64_t v) const { return std::to_string(v); }
  std::string operator()(int64_t v) const { return std::to_string(v); }
  std::string operator()(double v) const { return fmt::format("{:.3f}", v); }
  std::string operator()(bool v) const { return v ? "1" : "0"; }
  std::string operator()(const TextList& list) const { return (*this)(join(list.items())); }
};

std::string peer_stream_text(const PeerStreamEvent& e) {
  std::string stream = "stream " + std::to_string(e.stream_id);
  switch (e.change) {
    case PeerStreamChange::rejected:
      return fmt::format("{} rejected (code {:#x})", stream, e.code.value_or(0));
    case PeerStreamChange::text:
      return stream + ": " + e.text;
    case PeerStreamChange::saving:
      return stream + ": saving to " + e.text;
    case PeerStreamChange::ended: {
      std::string how = e.code ? fmt::format("reset by the peer (code {:#x})", *e.code) : "FIN";
      std::string where = e.text.empty() ? "" : ", saved to " + e.text;
      return fmt::format("{} ended: {} after {} bytes{}", stream, how, e.bytes, where);
    }
  }
  return stream;
}

}  // namespace

EventRecord record_of(const EventData& data) { return std::visit(Record{}, data); }

std::string outcome_text(const Outcome& outcome) {
  if (!outcome.peer_data) return outcome.message;
  return outcome.message + " " + quoted_terminal_text(*outcome.peer_data);
}

// The fixed prefixes are ASCII, so escaping the whole line only ever touches the text that came
// from the event (a peer's close reason inside an error message, the ALPN a client offered).
std::string notice_text(const EventData& data) {
  std::string text;
  if (auto* e = std::get_if<ErrorEvent>(&data)) text = "error: " + outcome_text(e->outcome);
  if (auto* e = std::get_if<WarningEvent>(&data)) text = "warning: " + e->text;
  if (auto* e = std::get_if<ListeningEvent>(&data)) text = "listening on " + e->local;
  if (auto* e = std::get_if<PeerStreamEvent>(&data)) text = peer_stream_text(*e);
  if (auto* e = std::get_if<StreamReportEvent>(&data))
    text = fmt::format("stream {}: {} bytes in {:.2f} s ({:.1f} MB/s)", e->stream_id, e->bytes,
                       static_cast<double>(e->duration.count()) / 1e6,
                       megabytes_per_second(e->bytes, e->duration));
  if (auto* e = std::get_if<StatusEvent>(&data))
    text = fmt::format(
        "status: {} bytes in ({:.1f} MB/s), {} bytes out ({:.1f} MB/s), {:.1f} s, {} stream{} open",
        e->bytes_in, megabytes_per_second(e->bytes_in, e->elapsed), e->bytes_out,
        megabytes_per_second(e->bytes_out, e->elapsed),
        static_cast<double>(e->elapsed.count()) / 1e6, e->streams, e->streams == 1 ? "" : "s");
  if (auto* e = std::get_if<NoteEvent>(&data)) text = e->text;
  if (auto* e = std::get_if<CertificateEvent>(&data))
    text = "certificate sha256 fingerprint " + e->fingerprint_sha256 +
           (e->ephemeral ? " (ephemeral, self-signed)" : "");
  return terminal_text(text);
}

std::string format_text(const EventRecord& record) {
  std::string out(record.name);
  for (const auto& f : record.fields) {
    // Multi-line trace text reads better as it is, after the header; SSL_trace makes it
    // multi-line by design, so only its newlines are kept.
    if (record.name == "trace" && f.key == "text") {
      out += "\n" + terminal_text(std::get<std::string>(f.value), Newlines::keep);
      continue;
    }
    out += fmt::format(" {}={}", f.key, std::visit(TextValue{}, f.value));
  }
  return out;
}

std::string json_members(const std::vector<Field>& fields) {
  std::string out;
  for (const auto& f : fields)
    out += fmt::format("{}{}:{}", out.empty() ? "" : ",", json_string(f.key),
                       std::visit(JsonValue{}, f.value));
  return out;
}

std::string text_lines(const std::vector<Field>& fields) {
  std::string out;
  for (const auto& f : fields) {
    // Unquoted, as these lines are read by people; strings are escaped all the same.
    std::string value = std::holds_alternative<std::string>(f.value)
                            ? terminal_text(std::get<std::string>(f.value))
                            : std::visit(TextValue{}, f.value);
    out += fmt::format("  {:<17} {}\n", std::string(f.key) + ":", value);
  }
  return out;
}

std::string format_json(const EventRecord& record, std::chrono::microseconds since_start) {
  std::string out = fmt::format("{{\"t_ms\":{:.3f},\"event\":{}", since_start.count() / 1000.0,
                                json_string(record.name));
  std::string members = json_members(record.fields);
  return out + (members.empty() ? "" : "," + members) + "}";
}

LogSink::LogSink(int verbosity, LogFormat format, const std::string& log_file)
    : verbosity_(verbosity), format_(format), to_file_(!log_file.empty()) {
  stderr_ = std::make_shared<spdlog::logger>("quicc-stderr",
                                             std::make_shared<spdlog::sinks::stderr_sink_mt>());
  stderr_->set_pattern("%v");
  stderr_->flush_on(spdlog::level::info);
  if (to_file_) {
    // spdlog throws spdlog_ex (a std::runtime_error) when the file cannot be opened.
    logger_ = std::make_shared<spdlog::logger>(
        "quicc-file", std::make_shared<spdlog::sinks::basic_file_sink_mt>(log_file, true));
    logger_->set_pattern("%v");
    logger_->flush_on(spdlog::level::info);
  } else {
    logger_ = stderr_;
  }
}

// The connection an event is about (a service listener's), as one more field of its record.
EventRecord record_of(const Event& event) {
  EventRecord record = record_of(event.data);
  if (event.connection) record.fields.push_back({"connection", *event.connection});
  return record;
}

// A notice about one of a service listener's connections ends with the connection's number.
std::string notice_text(const Event& event) {
  std::string text = notice_text(event.data);
  if (event.connection) text += fmt::format(" (connection {})", *event.connection);
  return text;
}

namespace {

// 1234567 -> "1.2 MB": decimal units, as the rates.
std::string human_bytes(double n) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  size_t u = 0;
  while (n >= 1000 && u + 1 < std::size(units)) {
    n /= 1000;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} {}", n, units[u]) : fmt::format("{:.1f} {}", n, units[u]);
}

}  // namespace

std::string progress_text(uint64_t in, uint64_t out, double in_rate, double out_rate,
                          double seconds) {
  return fmt::format("in {} ({}/s), out {} ({}/s), {:.0f} s", human_bytes(static_cast<double>(in)),
                     human_bytes(in_rate), human_bytes(static_cast<double>(out)),
                     human_bytes(out_rate), seconds);
}

void LogSink::draw_progress(const ProgressEvent& e) {
  // JSON Lines on stderr leave no room for a meter; a transfer shorter than a second gets none.
  if (format_ == LogFormat::json && !to_file_) return;
  samples_.push_back({e.elapsed, e.bytes_in, e.bytes_out});
  while (samples_.size() > 2 && e.elapsed - samples_.front().at > std::chrono::seconds(1))
    samples_.erase(samples_.begin());
  if (e.elapsed < std::chrono::seconds(1)) return;
  const Sample& first = samples_.front();
  double span = static_cast<double>((e.elapsed - first.at).count()) / 1e6;
  double in_rate = span > 0 ? static_cast<double>(e.bytes_in - first.in) / span : 0;
  double out_rate = span > 0 ? static_cast<double>(e.bytes_out - first.out) / span : 0;
  std::string line = "\rquicc: " + progress_text(e.bytes_in, e.bytes_out, in_rate, out_rate,
                                                   static_cast<double>(e.elapsed.count()) / 1e6) +
                     "\x1b[K";
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
  meter_drawn_ = true;
}

void LogSink::clear_progress() {
  if (!meter_drawn_) return;
  std::fputs("\r\x1b[K", stderr);
  std::fflush(stderr);
  meter_drawn_ = false;
}

void LogSink::on_event(const Event& event) {
  if (auto* p = std::get_if<ProgressEvent>(&event.data)) {
    draw_progress(*p);
    return;
  }
  bool notice = always_shown(event.data);
  if ((notice || verbosity_ >= 1) && !to_file_) clear_progress();
  if (!notice && verbosity_ < 1) return;
  if (format_ == LogFormat::json) {
    logger_->info(format_json(record_of(event), event.since_start));
  } else if (notice) {
    logger_->info("quicc: {}", notice_text(event));
  } else {
    logger_->info("[{:10.3f}ms] {}", event.since_start.count() / 1000.0,
                  format_text(record_of(event)));
  }
  // With the log in a file, stderr still gets the lines a script or a user must not miss.
  if (to_file_ && notice) stderr_->info("quicc: {}", notice_text(event));
}

}  // namespace quicc::cli

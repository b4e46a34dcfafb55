#include "log_sink.hpp"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace quicc::cli {

namespace {

std::string wake_text(unsigned wake) {
  static constexpr std::pair<unsigned, const char*> names[] = {
      {wake_timeout, "timeout"},   {wake_net_readable, "net_readable"},
      {wake_net_writable, "net_writable"}, {wake_input, "input"},
      {wake_output, "output"},     {wake_signal, "signal"}};
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
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// Events shown without -v: what a user of `nc -l` or a failing run needs to see.
bool always_shown(const EventData& data) {
  return std::holds_alternative<ErrorEvent>(data) || std::holds_alternative<ListeningEvent>(data) ||
         std::holds_alternative<CertificateEvent>(data);
}

struct Describe {
  std::string operator()(const ResolvedEvent& e) const {
    return fmt::format("resolved {}: {}", e.host, join(e.addresses));
  }
  std::string operator()(const SocketEvent& e) const {
    return fmt::format("socket {} -> {}", e.local, e.peer);
  }
  std::string operator()(const ListeningEvent& e) const {
    return fmt::format("listening on {}", e.local);
  }
  std::string operator()(const CertificateEvent& e) const {
    return fmt::format("certificate sha256 fingerprint {}{}", e.fingerprint_sha256,
                       e.ephemeral ? " (ephemeral, self-signed)" : "");
  }
  std::string operator()(const HandshakeStartEvent& e) const {
    return fmt::format("handshake started with {}", e.peer);
  }
  std::string operator()(const HandshakeDoneEvent& e) const {
    return fmt::format("handshake done: alpn={} cipher={} group={} rtt={} peer=\"{}\" verify={}",
                       e.alpn, e.cipher, e.group,
                       e.rtt_us ? fmt::format("{:.3f}ms", *e.rtt_us / 1000.0) : "?",
                       e.peer_subject, e.verify_result);
  }
  std::string operator()(const ConnectionAcceptedEvent& e) const {
    return fmt::format("connection #{} accepted", e.index);
  }
  std::string operator()(const TickEvent& e) const {
    return fmt::format("tick wake={} next_timeout={} read_desired={} write_desired={} in={} out={}",
                       wake_text(e.wake),
                       e.next_timeout_us ? fmt::format("{:.3f}ms", *e.next_timeout_us / 1000.0)
                                         : "infinite",
                       e.net_read_desired ? 1 : 0, e.net_write_desired ? 1 : 0, e.bytes_in,
                       e.bytes_out);
  }
  std::string operator()(const StreamEvent& e) const {
    return fmt::format("stream {} {}{}", e.stream_id, stream_change_name(e.change),
                       e.error_code ? fmt::format(" code=0x{:x}", *e.error_code) : "");
  }
  std::string operator()(const ShutdownEvent& e) const {
    return e.complete ? "shutdown complete" : "shutdown started";
  }
  std::string operator()(const CloseEvent& e) const {
    return fmt::format("connection closed by {}: {} code=0x{:x} frame_type=0x{:x} reason=\"{}\" "
                       "bytes_in={} bytes_out={}",
                       e.local ? "us" : "peer", e.transport ? "transport" : "application",
                       e.error_code, e.frame_type, e.reason, e.bytes_in, e.bytes_out);
  }
  std::string operator()(const ErrorEvent& e) const { return "error: " + e.outcome.message; }
};

}  // namespace

std::string describe_event(const EventData& data) { return std::visit(Describe{}, data); }

LogSink::LogSink(int verbosity)
    : verbosity_(verbosity),
      logger_(std::make_shared<spdlog::logger>("quicc",
                                               std::make_shared<spdlog::sinks::stderr_sink_mt>())) {
  logger_->set_pattern("%v");
  logger_->flush_on(spdlog::level::info);
}

void LogSink::on_event(const Event& event) {
  // Lines a script may look for keep one fixed shape ("quicc: error: ..."); the rest carry
  // the time since start.
  if (always_shown(event.data)) {
    logger_->info("quicc: {}", describe_event(event.data));
  } else if (verbosity_ >= 1) {
    logger_->info("[{:10.3f}ms] {}", event.since_start.count() / 1000.0,
                  describe_event(event.data));
  }
}

}  // namespace quicc::cli

#include "console.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cstdio>

namespace quicc {

namespace {

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string alpn_of(SSL* ssl) {
  const unsigned char* alpn = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &len);
  return std::string(reinterpret_cast<const char*>(alpn), len);
}

}  // namespace

PipeStreamIds stream_ids(const PipeStreams& streams) {
  PipeStreamIds ids;
  if (SSL* s = streams.send()) {
    ids.send = SSL_get_stream_id(s);
    ids.send_ours = s == streams.own();
  }
  if (SSL* r = streams.receive()) ids.receive = SSL_get_stream_id(r);
  return ids;
}

Console::Console(RunContext& run, Connection& conn)
    : run_(run), conn_(conn), on_(run.config.interactive) {}

void Console::note(std::string text) { conn_.emitter().emit(NoteEvent{std::move(text)}); }

void Console::turn(TransferPolicy& policy, const PipeFacts& facts, const PipeStreamIds& ids,
                   Clock::time_point started, Clock::time_point now) {
  if (!on_) return;
  if (!banner_shown_) {
    banner_shown_ = true;
    SSL* ssl = conn_.ssl();
    std::string cipher;
    if (const SSL_CIPHER* c = SSL_get_current_cipher(ssl)) cipher = SSL_CIPHER_get_name(c);
    ERR_clear_error();
    std::string who = conn_.peer().empty() ? "" : " " + std::string(run_.config.role == Role::client ? "to " : "from ") + conn_.peer();
    note(std::string(run_.config.role == Role::client ? "connected" : "connection") + who +
         " (ALPN " + alpn_of(ssl) + ", " + cipher + "); ~? for commands");
  }
  if (CommandQueue* queue = run_.interrupts.commands(); queue && queue->pending())
    for (UserCommand& command : queue->take()) held_.push_back(std::move(command));
  while (!held_.empty() && carry_out(held_.front(), policy, facts, ids, started, now))
    held_.pop_front();
  if (facts.fin_received && !fin_told_) {
    fin_told_ = true;
    note("the peer finished sending (FIN after " + std::to_string(facts.received) + " bytes)");
  }
  if (facts.reset_received && !reset_told_) {
    reset_told_ = true;
    note(*facts.reset_received == stream_code_unknown
             ? std::string("the peer reset the stream")
             : "the peer reset the stream (code " + hex(*facts.reset_received) + ")");
  }
}

bool Console::carry_out(const UserCommand& command, TransferPolicy& policy,
                        const PipeFacts& facts, const PipeStreamIds& ids,
                        Clock::time_point started, Clock::time_point now) {
  using Kind = UserCommand::Kind;
  // ~f, ~r and ~. choose what the input's EOF does, and that EOF comes after the data typed
  // before them: they need not wait. The others wait for that data to be read, and a close
  // for it to be written to the stream, unless the connection is over anyway.
  bool ends_input = command.kind == Kind::fin || command.kind == Kind::reset || command.kind == Kind::quit;
  bool over = policy.done() || facts.local_error || facts.output_closed;
  if (!ends_input && !over) {
    if (facts.input_read < command.after_bytes && !facts.input_eof) return false;
    if (command.kind == Kind::close && facts.sent < std::min(command.after_bytes, facts.input_read) &&
        !facts.reset_sent && !facts.stopped)
      return false;
  }
  conn_.emitter().emit(CommandEvent{command_letter(command.kind), command_text(command)});
  bool taken = policy.command(command);
  if (command.kind == Kind::info) note(info_text(facts, started, now));
  else if (command.kind == Kind::list) note(list_text(facts, ids));
  else if (!taken)
    note(std::string("~") + command_letter(command.kind) +
         (ends_input ? ": our side of the stream is finished already"
                     : ": too late, the connection is closing"));
  return true;
}

void Console::closed(const CloseInfo& info) {
  if (on_ && !info.local && !peer_close_) peer_close_ = info;
}

void Console::finished() {
  if (!peer_close_) return;
  const CloseInfo& info = *peer_close_;
  std::string text = "the peer closed the connection (" +
                     std::string(info.transport ? "transport" : "application") + " code " +
                     hex(info.code) + ")";
  if (!info.reason.empty()) text += ": " + info.reason;
  note(text);
  peer_close_.reset();
}

std::string Console::info_text(const PipeFacts& f, Clock::time_point started,
                               Clock::time_point now) const {
  SSL* ssl = conn_.ssl();
  std::string text = conn_.peer().empty() ? std::string("connection") : "peer " + conn_.peer();
  text += ", ALPN " + alpn_of(ssl);
  if (const SSL_CIPHER* c = SSL_get_current_cipher(ssl))
    text += ", " + std::string(SSL_CIPHER_get_name(c));
  uint64_t rtt = 0;
  if (SSL_get_handshake_rtt(ssl, &rtt) == 1) text += ", handshake RTT " + fixed(rtt / 1000.0, 3) + " ms";
  ERR_clear_error();
  double seconds = std::chrono::duration<double>(now - started).count();
  text += "; " + std::to_string(f.received) + " bytes in, " + std::to_string(f.sent) +
          " bytes out (" + std::to_string(f.unacked) + " unacknowledged), " + fixed(seconds, 1) +
          " s";
  return text;
}

std::string Console::list_text(const PipeFacts& f, const PipeStreamIds& ids) const {
  if (!ids.send && !ids.receive) return "no stream yet: the first line typed opens one";
  std::string out = f.fin_sent ? "FIN sent" : f.reset_sent ? "reset sent" : f.input_eof ? "ending" : "open";
  std::string in = f.fin_received     ? "FIN received"
                   : f.reset_received ? "reset received (code " + hex(*f.reset_received) + ")"
                   : f.read_ended     ? "ended"
                                      : "open";
  auto name = [](uint64_t id, bool ours) {
    return "stream " + std::to_string(id) + (ours ? " (ours)" : " (the peer's)");
  };
  std::string text;
  if (ids.send && ids.receive && *ids.send == *ids.receive) {
    text = name(*ids.send, ids.send_ours) + ": out " + std::to_string(f.sent) + " bytes, " + out +
           "; in " + std::to_string(f.received) + " bytes, " + in;
  } else {
    if (ids.send) text = name(*ids.send, true) + ": out " + std::to_string(f.sent) + " bytes, " + out;
    if (ids.receive)
      text += (text.empty() ? "" : "; ") + name(*ids.receive, false) + ": in " +
              std::to_string(f.received) + " bytes, " + in;
  }
  return text;
}

}  // namespace quicc

#include "console.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cstdio>

#include "close_info.hpp"
#include "tls.hpp"

namespace quicc {

namespace {

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
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

Console::Console(RunContext& run, Connection& conn, std::function<void(SSL*)> watch)
    : run_(run), conn_(conn), on_(run.config.interactive), watch_(std::move(watch)) {}

bool Console::wants_turn() const {
  return !held_.empty() || std::any_of(own_.begin(), own_.end(), [](const OwnStream& o) {
           return !o.reset_sent && (!o.pending.empty() || (o.fin_wanted && !o.fin_sent));
         });
}

void Console::note(std::string text) { conn_.emitter().emit(NoteEvent{std::move(text)}); }

void Console::turn(TransferPolicy& policy, const PipeFacts& facts, const PipeStreamIds& ids,
                   Clock::time_point started, Clock::time_point now) {
  if (!on_) return;
  if (!banner_shown_) {
    banner_shown_ = true;
    std::string who = conn_.peer().empty() ? "" : " " + std::string(run_.config.role == Role::client ? "to " : "from ") + conn_.peer();
    note(std::string(run_.config.role == Role::client ? "connected" : "connection") + who +
         " (ALPN " + conn_.alpn() + ", " + conn_.cipher() + "); ~? for commands");
  }
  if (CommandQueue* queue = run_.interrupts.commands(); queue && queue->pending())
    for (UserCommand& command : queue->take()) held_.push_back(std::move(command));
  while (!held_.empty() && carry_out(held_.front(), policy, facts, ids, started, now)) {
    held_.pop_front();
    front_held_since_.reset();
  }
  for (OwnStream& own : own_) flush(own);
  if (facts.fin_received && !fin_told_) {
    fin_told_ = true;
    note("the peer finished sending (FIN after " + std::to_string(facts.received) + " bytes)");
  }
  if (facts.reset_received && !reset_told_) {
    reset_told_ = true;
    note(*facts.reset_received == stream_code_unknown
             ? std::string("the peer reset the stream")
             : "the peer reset the stream (code " + hex_code(*facts.reset_received) + ")");
  }
}

bool Console::carry_out(const UserCommand& command, TransferPolicy& policy,
                        const PipeFacts& facts, const PipeStreamIds& ids,
                        Clock::time_point started, Clock::time_point now) {
  using Kind = UserCommand::Kind;
  OwnStream* own = current_ ? &own_[*current_] : nullptr;
  if (command.kind == Kind::send_data) {
    // The reader sends lines this way only while a stream of ours is chosen.
    if (own && own->ended())
      note("not sent: our side of stream " + std::to_string(own->id) + " is finished (~s to choose another)");
    else if (own)
      own->pending += command.data;
    return true;
  }
  // ~f and ~r on a stream of ~n or ~u end that stream alone.
  bool ends_own = own && (command.kind == Kind::fin || command.kind == Kind::reset);
  // ~f, ~r and ~. choose what the input's EOF does, and that EOF comes after the data typed
  // before them: they need not wait. The others wait for that data to be read, and a close
  // for it to be written to the stream, unless the connection is over anyway.
  bool ends_input = !ends_own && (command.kind == Kind::fin || command.kind == Kind::reset ||
                                  command.kind == Kind::quit);
  bool over = policy.done() || facts.local_error || facts.output_closed || conn_.closed();
  if (!ends_input && !ends_own && !over) {
    if (facts.input_read < command.after_bytes && !facts.input_eof) return false;
    if (command.kind == Kind::close && facts.sent < std::min(command.after_bytes, facts.input_read) &&
        !facts.reset_sent && !facts.stopped)
      return false;
    // The pipe's first line opens its stream: ~n waits for it, so that the peer takes the
    // pipe's stream for the pipe (it adopts the first bidirectional stream it sees).
    if (command.kind == Kind::new_bidi && !ids.send && facts.input_read > 0) return false;
    // ~i and ~l count what was typed before them as sent, and ~n on the peer's stream needs
    // our first line sent on it: they wait a moment for the bytes read to be written to the
    // stream (the blocking driver's sender counts them after its write: the peer can show a
    // line before we count it), not longer (a stream without room must not silence them).
    bool counts_sent = command.kind == Kind::info || command.kind == Kind::list ||
                       (command.kind == Kind::new_bidi && !ids.send_ours);
    if (counts_sent && facts.sent < std::min(command.after_bytes, facts.input_read) &&
        !facts.reset_sent && !facts.stopped) {
      if (!front_held_since_) front_held_since_ = now;
      if (now - *front_held_since_ < std::chrono::seconds(1)) return false;
    }
  }
  conn_.emitter().emit(CommandEvent{command_letter(command.kind), command_text(command)});
  CommandQueue* queue = run_.interrupts.commands();
  switch (command.kind) {
    case Kind::new_bidi:
    case Kind::new_uni: {
      StreamChoice choice = open_stream(command.kind == Kind::new_uni, ids, facts.sent, over);
      if (queue) queue->answer(choice);
      return true;
    }
    case Kind::use_stream: {
      StreamChoice choice = use_stream(command, ids);
      if (queue) queue->answer(choice);
      return true;
    }
    default:
      break;
  }
  if (ends_own) {
    end_own(*own, command);
    return true;
  }
  if (command.kind == Kind::quit)
    for (OwnStream& o : own_)
      if (!o.ended()) o.fin_wanted = true;  // flushed with the others at the end of the turn
  bool taken = policy.command(command);
  if (command.kind == Kind::info) note(info_text(facts, started, now));
  else if (command.kind == Kind::list)
    for (std::string& line : list_lines(facts, ids)) note(std::move(line));
  else if (!taken)
    note(std::string("~") + command_letter(command.kind) +
         (ends_input ? ": our side of the stream is finished already"
                     : ": too late, the connection is closing"));
  return true;
}

StreamChoice Console::open_stream(bool uni, const PipeStreamIds& ids, uint64_t sent, bool over) {
  const char* name = uni ? "~u" : "~n";
  if (over) {
    note(std::string(name) + ": too late, the connection is closing");
    return {};
  }
  if (!uni && !ids.send) {
    note("~n: the pipe's stream is not open yet (its first line opens it): type a line first");
    return {};
  }
  // Until the peer has our data on the stream it opened, a stream of ours would look to it
  // like our own pipe stream, opened at the same time as its own (pipe_streams.hpp).
  if (!uni && !ids.send_ours && sent == 0) {
    note("~n: send a line on the pipe's stream first (until then the peer would take a new "
         "stream of ours for the pipe)");
    return {};
  }
  std::string error;
  SSL* s = conn_.open_stream(false, error, uni);
  if (!s) {
    note(std::string(name) + ": " +
         (error.empty() ? "the peer allows no more streams for now" : error));
    return {};
  }
  ERR_clear_error();
  own_.push_back(OwnStream{s, SSL_get_stream_id(s), uni, {}});
  current_ = own_.size() - 1;
  if (!uni && watch_) watch_(s);
  note("sending on stream " + std::to_string(own_.back().id) +
       (uni ? " (unidirectional)" : " (bidirectional)") + "; ~s alone goes back to the pipe's stream");
  return {true, false};
}

StreamChoice Console::use_stream(const UserCommand& command, const PipeStreamIds& ids) {
  if (!command.has_stream || (ids.send && command.code == *ids.send)) {
    current_.reset();
    note(ids.send ? "sending on stream " + std::to_string(*ids.send) + " (the pipe's)"
                  : std::string("sending on the pipe's stream (it opens with its first line)"));
    return {true, true};
  }
  for (size_t i = 0; i < own_.size(); ++i) {
    if (own_[i].id != command.code) continue;
    if (own_[i].ended()) {
      note("~s: our side of stream " + std::to_string(command.code) + " is finished");
      return {};
    }
    current_ = i;
    note("sending on stream " + std::to_string(command.code));
    return {true, false};
  }
  note("~s: no stream " + std::to_string(command.code) + " of ours to send on (~l lists them)");
  return {};
}

void Console::end_own(OwnStream& own, const UserCommand& command) {
  if (own.ended()) {
    note(std::string("~") + command_letter(command.kind) + ": our side of stream " +
         std::to_string(own.id) + " is finished already");
    return;
  }
  if (command.kind == UserCommand::Kind::fin) {
    own.fin_wanted = true;
    flush(own);
    return;
  }
  own.pending.clear();  // a reset drops what the stream has not taken
  SSL_STREAM_RESET_ARGS args{command.code};
  if (SSL_stream_reset(own.stream, &args, sizeof args) == 1) {
    own.reset_sent = true;
    conn_.emitter().emit(StreamEvent{own.id, StreamChange::reset_sent, command.code});
  } else {
    note("~r: stream " + std::to_string(own.id) + " cannot be reset: " + openssl_error_text());
    own.reset_sent = true;
  }
  ERR_clear_error();
}

void Console::flush(OwnStream& own) {
  if (own.reset_sent || own.fin_sent) return;
  while (!own.pending.empty()) {
    // No more than the stream's buffer has room for: the blocking driver's streams would
    // otherwise wait here for the peer, and this is the thread that hears Ctrl-C.
    uint64_t room = 0;
    if (SSL_get_stream_write_buf_avail(own.stream, &room) != 1 || room == 0) break;
    size_t n = 0;
    size_t want = static_cast<size_t>(std::min<uint64_t>(room, own.pending.size()));
    ERR_clear_error();
    if (SSL_write_ex(own.stream, own.pending.data(), want, &n) != 1 || n == 0) {
      int state = SSL_get_stream_write_state(own.stream);
      if (state == SSL_STREAM_STATE_RESET_LOCAL) {
        // The peer's STOP_SENDING: OpenSSL reset our side with the peer's code.
        uint64_t code = 0;
        SSL_get_stream_write_error_code(own.stream, &code);
        conn_.emitter().emit(StreamEvent{own.id, StreamChange::reset_received, code});
        note("stream " + std::to_string(own.id) + ": the peer asked us to stop sending (code " +
             hex_code(code) + ")");
        own.reset_sent = true;
        own.pending.clear();
      } else if (state != SSL_STREAM_STATE_OK) {
        own.pending.clear();  // the connection is over: its end is reported by its owner
      }
      break;
    }
    own.pending.erase(0, n);
    own.sent += n;
  }
  ERR_clear_error();
  if (own.fin_wanted && !own.fin_sent && !own.reset_sent && own.pending.empty()) {
    if (SSL_stream_conclude(own.stream, 0) == 1) {
      own.fin_sent = true;
      conn_.emitter().emit(StreamEvent{own.id, StreamChange::fin_sent, {}});
    } else if (SSL_get_stream_write_state(own.stream) != SSL_STREAM_STATE_OK) {
      own.fin_sent = true;  // nothing more can go: the connection is over, or the peer stopped it
    }
    ERR_clear_error();
  }
}

void Console::closed(const CloseInfo& info) {
  if (on_ && !info.local && !peer_close_) peer_close_ = info;
}

void Console::finished() {
  if (!peer_close_) return;
  const CloseInfo& info = *peer_close_;
  std::string text = "the peer closed the connection (" +
                     std::string(info.transport ? "transport" : "application") + " code " +
                     hex_code(info.code) + ")";
  if (!info.reason.empty()) text += ": " + info.reason;
  note(text);
  peer_close_.reset();
}

std::string Console::info_text(const PipeFacts& f, Clock::time_point started,
                               Clock::time_point now) const {
  SSL* ssl = conn_.ssl();
  std::string text = conn_.peer().empty() ? std::string("connection") : "peer " + conn_.peer();
  text += ", ALPN " + conn_.alpn() + ", " + conn_.cipher();
  uint64_t rtt = 0;
  if (SSL_get_handshake_rtt(ssl, &rtt) == 1) text += ", handshake RTT " + fixed(rtt / 1000.0, 3) + " ms";
  ERR_clear_error();
  double seconds = std::chrono::duration<double>(now - started).count();
  text += "; " + std::to_string(f.received) + " bytes in, " + std::to_string(f.sent) +
          " bytes out (" + std::to_string(f.unacked) + " unacknowledged), " + fixed(seconds, 1) +
          " s";
  return text;
}

std::string Console::own_text(const OwnStream& o) const {
  std::string text = "stream " + std::to_string(o.id) + (o.uni ? " (ours, unidirectional)" : " (ours)") +
                     ": out " + std::to_string(o.sent) + " bytes, " +
                     (o.fin_sent ? "FIN sent" : o.reset_sent ? "reset sent" : o.fin_wanted ? "ending" : "open");
  if (!o.uni) {
    text += "; in ";
    switch (SSL_get_stream_read_state(o.stream)) {
      case SSL_STREAM_STATE_OK: text += "open"; break;
      case SSL_STREAM_STATE_FINISHED: text += "FIN received"; break;
      case SSL_STREAM_STATE_RESET_REMOTE: {
        uint64_t code = 0;
        SSL_get_stream_read_error_code(o.stream, &code);
        text += "reset received (code " + hex_code(code) + ")";
        break;
      }
      default: text += "ended"; break;
    }
    ERR_clear_error();
  }
  return text;
}

std::vector<std::string> Console::list_lines(const PipeFacts& f, const PipeStreamIds& ids) const {
  std::vector<std::string> lines{pipe_text(f, ids)};
  if (!current_ && !own_.empty()) lines[0] += " [sending here]";
  for (size_t i = 0; i < own_.size(); ++i)
    lines.push_back(own_text(own_[i]) + (current_ == i ? " [sending here]" : ""));
  return lines;
}

std::string Console::pipe_text(const PipeFacts& f, const PipeStreamIds& ids) const {
  if (!ids.send && !ids.receive) return "no stream yet: the first line typed opens one";
  std::string out = f.fin_sent ? "FIN sent" : f.reset_sent ? "reset sent" : f.input_eof ? "ending" : "open";
  std::string in = f.fin_received     ? "FIN received"
                   : f.reset_received ? "reset received (code " + hex_code(*f.reset_received) + ")"
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

#include "docs.hpp"

#include <fmt/format.h>

#include <vector>

#include "cli/exit_codes.hpp"
#include "cli/options.hpp"
#include "cli/role_rules.hpp"

namespace quicc::cli {

namespace {

constexpr EventDoc events[] = {
    {"listening", "always", "A listener's socket is bound.", "local=the address and port it listens on"},
    {"certificate", "always",
     "The certificate a listener presents; a client pins it with --pin-sha256.",
     "sha256=its SHA-256 fingerprint|ephemeral=1 when generated for this run (no --cert)"},
    {"resolved", "-v", "The target's host name was resolved.",
     "host=the name|addresses=every address found, in the order tried"},
    {"socket", "-v", "A UDP socket was opened.", "local=its address|peer=the address it sends to"},
    {"handshake_start", "-v", "A handshake with one address begins.",
     "peer=the address|attempt=which address of several|of=how many there are"},
    {"handshake_done", "-v", "The handshake completed.",
     "alpn=the protocol agreed|cipher=the TLS ciphersuite|group=the key exchange group|"
     "peer_subject=the peer certificate's subject|peer_issuer=its issuer|peer_not_after=its "
     "expiry|verify=the verification result|resumed=1 when a session was resumed|"
     "handshake_ms=how long it took|rtt_ms=OpenSSL's handshake round-trip time|tls_version=the "
     "TLS version|session_offered=1 when --session-in offered a session"},
    {"peer_certificate", "-v", "The peer's certificate, as --check shows it.",
     "subject=its subject|issuer=its issuer|names=its DNS and IP names|not_before=start of "
     "validity|not_after=end of validity|days_left=days until it expires|sha256=its SHA-256 "
     "fingerprint"},
    {"session_ticket", "-v", "The server sent a session ticket.",
     "saved_to=the --session-out file it was saved to"},
    {"connection_accepted", "-v", "A listener accepted a client.",
     "index=the connection's number, stamped on its later events as connection=|peer=the "
     "client's address"},
    {"tick", "-vv", "One turn of the event loop.",
     "wake=why it woke: timeout, net_readable, net_writable, input, output, signal (start: the "
     "first turn)|next_timeout_ms=OpenSSL's next deadline (infinite: none)|read_desired=1 when "
     "OpenSSL wants the socket readable|write_desired=1 when it wants it writable|bytes_in=bytes "
     "received so far|bytes_out=bytes sent so far"},
    {"stream", "-v", "A stream changed state.",
     "id=the stream ID|change=opened, accepted, fin_sent, fin_received, reset_sent or "
     "reset_received|code=the reset's application error code"},
    {"peer_stream", "always", "A stream the peer opened beyond the pipe's (--peer-streams).",
     "id=the stream ID|change=rejected, text, saving or ended|text=a line of its data, "
     "escaped|file=the file its data goes to|code=the reset code (ours when rejected, the "
     "peer's when it ended with one)|bytes=its length"},
    {"input_closed", "-v", "Our input (stdin, --send) reached its end.", ""},
    {"first_byte", "-v", "The peer's first byte arrived on a stream.", "id=the stream ID"},
    {"trace", "-vvv", "One decoded TLS or QUIC message (SSL_trace).",
     "direction=sent or received|text=the decoded message"},
    {"shutdown", "-v", "A step of our close.", "complete=1 once the close is over"},
    {"close", "-v", "The connection closed.",
     "by=local or peer|kind=transport or application|code=the error code|frame_type=the frame "
     "that caused a transport error|reason=the reason phrase|bytes_in=bytes received|"
     "bytes_out=bytes sent|bytes_unacked=bytes sent but never acknowledged|closing_period="
     "waited (to its end) or skipped"},
    {"error", "always", "Why the run failed: the line before the exit.",
     "status=the exit status's name|message=what went wrong|received=the peer's first bytes "
     "when --expect found no match (escaped)"},
    {"warning", "always", "Something the user should know that does not end the run.",
     "message=the text"},
    {"key_update", "-v", "We requested a TLS key update.", "after_bytes=bytes sent before it"},
    {"response", "-v", "A --get response arrived whole.",
     "path=the request's path|stream=its stream ID|bytes=its length|ms=how long it took|"
     "saved_to=the file it went to"},
    {"stream_report", "always", "A service listener's stream reached its end (--sink).",
     "id=the stream ID|bytes=its length|seconds=how long it took|mb_per_s=its rate in MB/s"},
    {"status", "always", "Where the pipe stands, on SIGUSR1.",
     "bytes_in=bytes received|bytes_out=bytes sent|elapsed_ms=time since the pipe began|"
     "streams=streams open"},
    {"note", "always", "A terminal session's message to the person at it.", "text=the message"},
    {"command", "-v", "An escape command typed at the terminal, as carried out.",
     "name=its letter|text=what it did"},
    {"progress", "-v", "Where a transfer stands (JSON log only; on a terminal, the meter).",
     "bytes_in=bytes received|bytes_out=bytes sent|elapsed_ms=time since the pipe began"},
    {"perf", "-v", "A perf client's goodput for one second, or for the run (final).",
     "final=1 for the whole run|from_ms=start of the interval|to_ms=its end|bytes_up=bytes "
     "uploaded in it|bytes_down=bytes downloaded in it|requests_done=requests finished so far|"
     "streams=streams at once"},
};

// Text for roff: backslashes and minus signs escaped, a line never starting with a control
// character.
std::string roff(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') out += "\\e";
    else if (c == '-') out += "\\-";
    else out += c;
  }
  size_t pos = 0;
  while (pos < out.size()) {
    if (out[pos] == '.' || out[pos] == '\'') out.insert(pos, "\\&");
    pos = out.find('\n', pos);
    if (pos == std::string::npos) break;
    ++pos;
  }
  return out;
}

std::string sentence(std::string_view text) {
  std::string s(text);
  if (!s.empty() && s.back() != '.') s += '.';
  return s;
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  while (!text.empty()) {
    size_t at = text.find(sep);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) break;
    text.remove_prefix(at + 1);
  }
  return parts;
}

// "-l" of "-l,--listen"; empty without a short flag.
std::string_view short_flag(const OptionSpec& spec) {
  size_t comma = spec.flags.find(',');
  return comma == std::string_view::npos ? std::string_view{} : spec.flags.substr(0, comma);
}

bool takes_argument(const OptionSpec& spec) { return !spec.argument.empty(); }
bool completes_files(const OptionSpec& spec) { return spec.argument.find("FILE") != std::string_view::npos; }
bool completes_dirs(const OptionSpec& spec) { return spec.argument.find("DIR") != std::string_view::npos; }
bool repeatable(const OptionSpec& spec) {
  return std::holds_alternative<std::vector<std::string> Options::*>(spec.binding) ||
         std::holds_alternative<int Options::*>(spec.binding);
}

// Where an option applies, from the role rules: "every run", or the runs that accept it.
std::string applies_to(std::string_view long_name) {
  const RoleRule* rule = role_rule(long_name);
  if (!rule) return "";
  std::vector<std::string> who;
  if (rule->client) who.push_back("a client");
  if (rule->pipe_listener) who.push_back("a pipe listener");
  if (rule->service_listener) who.push_back("a service listener");
  std::string out;
  for (size_t i = 0; i < who.size(); ++i)
    out += (i == 0 ? "" : i + 1 == who.size() ? " and " : ", ") + who[i];
  if (!rule->listener_needs.empty())
    out += " (a listener only with " + std::string(rule->listener_needs) + ")";
  return out;
}

constexpr std::string_view man_head = R"(.TH QUICC 1 "" "quicc" "User Commands"
.SH NAME
quicc \- a command-line QUIC client and listener for raw streams
.SH SYNOPSIS
.ad l
.nh
.B quicc
[\fIOPTIONS\fR] \fIHOST\fR:\fIPORT\fR
.br
.B quicc
[\fIOPTIONS\fR] \fB\-\-get\fR \fIPATH\fR... [\fB\-\-output\-dir\fR \fIDIR\fR] \fIHOST\fR:\fIPORT\fR
.br
.B quicc
[\fIOPTIONS\fR] \fB\-\-perf\fR [\fB\-\-upload\fR \fISIZE\fR] [\fB\-\-download\fR \fISIZE\fR] \fIHOST\fR:\fIPORT\fR
.br
.B quicc
[\fIOPTIONS\fR] \fB\-\-listen\fR [\fIADDR\fR:]\fIPORT\fR [\fB\-\-echo\fR|\fB\-\-serve\fR \fIDIR\fR|\fB\-\-sink\fR|\fB\-\-source\fR \fISIZE\fR|\fB\-\-perf\fR]
.hy
.ad
.SH DESCRIPTION
.B quicc
is to QUIC what
.BR nc (1),
.BR curl (1)
and
.BR openssl\-s_client (1)
are to TCP and TLS: it connects to a QUIC server (or listens for clients) and carries stdin and
stdout over one bidirectional stream, binary\-clean and full\-duplex, with a FIN at the end of
its input. It runs OpenSSL's QUIC implementation (OpenSSL 3.5), in non\-blocking mode from one
poll() loop or in blocking mode with threads, and shows that event loop at \fB\-vv\fR.
Every way a QUIC connection can end (FIN, stream reset, rapid or graceful close, error codes)
is an option, a log event and an exit code.
.PP
\fIHOST\fR may be a name, an IPv4 address or a bracketed IPv6 address: [::1]:4433.
.SS Interactive sessions
With stdin a terminal,
.B quicc
\fIHOST\fR:\fIPORT\fR is a session: lines typed go to the peer, its replies appear, and a line
that begins with \fB~\fR is a command (\fB~?\fR lists them): \fB~f\fR sends FIN, \fB~k\fR
requests a key update, \fB~r\fR \fICODE\fR resets the stream, \fB~c\fR \fICODE\fR closes the
connection with that code, \fB~.\fR quits. Notes on stderr say when the peer finishes, resets
or closes; a progress meter shows long transfers.
.SS Pipes
.B tar c dir | quicc
\fIHOST\fR:\fIPORT\fR sends its input and writes what the peer sends to stdout, FIN on EOF,
nothing lost: exit 0 only when every byte the peer sent up to its FIN reached stdout and
everything we sent was acknowledged.
.B quicc \-\-listen 4433 > out
is the other end (like \fBnc \-l\fR); \fB\-\-keep\-open\fR serves many clients, \fB\-\-echo\fR,
\fB\-\-serve\fR, \fB\-\-sink\fR, \fB\-\-source\fR and \fB\-\-perf\fR make it a service
listener that answers every stream itself.
.SS Scripted smoke tests
\fB\-\-send\fR and \fB\-\-expect\fR make a one\-line check, \fB\-\-check\fR a handshake probe,
\fB\-\-timeout\fR a deadline, \fB\-\-json\fR, \fB\-\-json\-file\fR and \fB\-w\fR a record, and
\fB\-\-count\fR a load run; the exit code says what failed.
.SH OPTIONS
)";

constexpr std::string_view man_tail = R"(.SH ENVIRONMENT
.TP
.B SSLKEYLOGFILE
Append TLS secrets to this file (NSS key log format), as \fB\-\-keylog\fR does.
.TP
.B QLOGDIR
Write a qlog trace per connection into this directory, as \fB\-\-qlog\-dir\fR does.
.TP
.BR SSL_CERT_FILE ", " SSL_CERT_DIR
The system trust store OpenSSL reads when neither \fB\-\-cafile\fR nor \fB\-\-capath\fR is given.
.TP
.B NO_COLOR
quicc writes no colour in any case; the progress meter only moves the cursor on its line.
.SH EXAMPLES
Talk to a QUIC server from a terminal:
.PP
.RS
.B quicc example.org:4433
.RE
.PP
Pipe a directory through a listener on another machine:
.PP
.RS
.nf
\fBquicc \-\-listen 4433 | tar x\fR          (on the receiver)
\fBtar c dir | quicc receiver:4433\fR        (on the sender)
.fi
.RE
.PP
A one\-line check with a deadline and a JSON record:
.PP
.RS
.B quicc \-\-send 'ping\en' \-\-expect '^pong$' \-\-timeout 5s \-\-json host:4433
.RE
.PP
What a server shows in its handshake, and whether its certificate expires soon:
.PP
.RS
.B quicc \-\-check \-\-warn\-days 14 example.org:443 \-\-alpn h3
.RE
.PP
Fetch files from an HTTP/0.9 (hq\-interop) server:
.PP
.RS
.B quicc \-\-get /index.html \-\-get /logo.png \-\-output\-dir . host:4433
.RE
.PP
An echo server for tests, serving clients until interrupted:
.PP
.RS
.B quicc \-\-listen 127.0.0.1:4433 \-\-echo \-\-keep\-open
.RE
.SH SEE ALSO
.BR openssl\-s_client (1),
.BR ncat (1),
.BR nc (1),
.BR curl (1),
.BR openssl\-quic (7)
)";

// zsh's _arguments: ']' and ':' and '\' of an explanation escaped, and '\'' for the quotes the
// spec sits in.
std::string zsh_text(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '[' || c == ']' || c == ':' || c == '\\') out += '\\';
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out;
}

std::string single_quoted_fish(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace

std::span<const EventDoc> event_docs() { return events; }

std::string completion_values(std::string_view name) {
  if (name == "--help") {
    std::string out;
    for (Category c : categories()) out += std::string(category_key(c)) + " ";
    return out + "all";
  }
  for (const auto& spec : option_table())
    if (long_name(spec) == name) return std::string(spec.values);
  return "";
}

std::string man_page() {
  std::string out(man_head);
  for (Category c : categories()) {
    out += ".SS " + roff(category_title(c)) + "\n";
    for (const auto& spec : option_table()) {
      if (spec.category != c) continue;
      out += ".TP\n";
      if (std::string_view s = short_flag(spec); !s.empty()) out += "\\fB" + roff(s) + "\\fR, ";
      out += "\\fB" + roff(long_name(spec)) + "\\fR";
      if (takes_argument(spec)) out += " \\fI" + roff(spec.argument) + "\\fR";
      out += "\n" + roff(sentence(spec.text())) + "\n";
      if (!spec.default_value.empty() && takes_argument(spec))
        out += ".br\nDefault: " + roff(spec.default_value) + ".\n";
      if (!spec.values.empty())
        out += ".br\nValues: " + roff(spec.values) + ".\n";
      if (std::string who = applies_to(long_name(spec)); !who.empty())
        out += ".br\nApplies to " + roff(who) + ".\n";
      if (repeatable(spec)) out += ".br\nRepeatable.\n";
      if (!spec.example.empty()) out += ".br\nExample: \\fB" + roff(spec.example) + "\\fR\n";
    }
  }
  out += ".SH EVENT LOG\n"
         "With \\fB\\-v\\fR (more with \\fB\\-vv\\fR and \\fB\\-vvv\\fR) quicc logs events on stderr, "
         "one per line: the time since the start in milliseconds, the event's name, then "
         "\\fIfield\\fR=\\fIvalue\\fR pairs (a value with spaces, quotes or bytes a terminal "
         "would act on is quoted and escaped). With \\fB\\-\\-log\\-format json\\fR each is a JSON "
         "object with the same names. Events marked \\(lqalways\\(rq are shown without "
         "\\fB\\-v\\fR too, as a \\(lqquicc:\\(rq line. A listener's events about one connection "
         "end with \\fBconnection\\fR=\\fIN\\fR, the number of its connection_accepted event.\n";
  for (const auto& e : events) {
    out += ".TP\n\\fB" + roff(e.name) + "\\fR (" + roff(e.shown) + ")\n" + roff(e.meaning) + "\n";
    for (std::string_view field : split(e.fields, '|')) {
      size_t eq = field.find('=');
      out += ".br\n\\fI" + roff(field.substr(0, eq)) + "\\fR: " + roff(field.substr(eq + 1)) + "\n";
    }
  }
  out += ".SH EXIT STATUS\n";
  for (const auto& e : exit_code_table())
    out += ".TP\n.B " + std::to_string(e.code) + "\n" + roff(sentence(e.description)) + "\n";
  out += ".PP\nExit 0 means: every byte the peer sent up to its FIN reached stdout, and "
         "everything we sent was acknowledged. Anything less exits non\\-zero and the error "
         "says what was lost.\n";
  out += man_tail;
  return out;
}

std::string bash_completion() {
  std::string words, files, dirs, takes_value;
  std::string choices;
  for (const auto& spec : option_table()) {
    std::string name(long_name(spec));
    std::string names = name;
    if (std::string_view s = short_flag(spec); !s.empty()) names = std::string(s) + "|" + name;
    words += (words.empty() ? "" : " ") + names;
    if (!takes_argument(spec)) continue;
    if (std::string v = completion_values(name); !v.empty())
      choices += fmt::format("    {})\n      COMPREPLY=($(compgen -W '{}' -- \"$cur\"))\n      return ;;\n",
                             names, v);
    else if (completes_files(spec))
      files += (files.empty() ? "" : "|") + names;
    else if (completes_dirs(spec))
      dirs += (dirs.empty() ? "" : "|") + names;
    else
      takes_value += (takes_value.empty() ? "" : "|") + names;
  }
  std::string all_words;
  for (char c : words) all_words += c == '|' ? ' ' : c;
  return fmt::format(
      "# bash completion for quicc; generated from its option table (cli/options.cpp) by\n"
      "# quicc_docs: do not edit.\n"
      "_quicc() {{\n"
      "  local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}}\n"
      "  case $prev in\n"
      "{}"
      "    {})\n      COMPREPLY=($(compgen -f -- \"$cur\"))\n      return ;;\n"
      "    {})\n      COMPREPLY=($(compgen -d -- \"$cur\"))\n      return ;;\n"
      "    {})\n      COMPREPLY=()\n      return ;;\n"
      "  esac\n"
      "  if [[ $cur == -* ]]; then\n"
      "    COMPREPLY=($(compgen -W '{}' -- \"$cur\"))\n"
      "  fi\n"
      "}}\n"
      "complete -F _quicc quicc\n",
      choices, files, dirs, takes_value, all_words);
}

std::string zsh_completion() {
  std::string out =
      "#compdef quicc\n"
      "# zsh completion for quicc; generated from its option table (cli/options.cpp) by\n"
      "# quicc_docs: do not edit.\n"
      "_arguments -s -S \\\n";
  for (const auto& spec : option_table()) {
    std::string name(long_name(spec));
    std::string action;
    if (takes_argument(spec)) {
      std::string v = completion_values(name);
      if (!v.empty()) action = "(" + v + ")";
      else if (completes_files(spec)) action = "_files";
      else if (completes_dirs(spec)) action = "_files -/";
      else action = " ";
      action = ":" + zsh_text(spec.argument) + ":" + action;
    }
    std::string star = repeatable(spec) ? "*" : "";
    std::string help = "[" + zsh_text(spec.help) + "]";
    std::vector<std::string> forms{name};
    if (std::string_view s = short_flag(spec); !s.empty()) forms.emplace_back(s);
    for (const auto& f : forms)
      out += "  '" + star + f + (takes_argument(spec) ? "=" : "") + help + action + "' \\\n";
  }
  out += "  ':target (HOST or HOST and PORT):_hosts'\n";
  return out;
}

std::string fish_completion() {
  std::string out =
      "# fish completion for quicc; generated from its option table (cli/options.cpp) by\n"
      "# quicc_docs: do not edit.\n"
      "complete -c quicc -f\n";
  for (const auto& spec : option_table()) {
    std::string name(long_name(spec));
    std::string line = "complete -c quicc";
    if (std::string_view s = short_flag(spec); !s.empty()) line += " -s " + std::string(s.substr(1));
    line += " -l " + name.substr(2);
    if (takes_argument(spec)) {
      std::string v = completion_values(name);
      if (!v.empty()) line += " -x -a " + single_quoted_fish(v);
      else if (completes_files(spec)) line += " -r -F";
      else if (completes_dirs(spec)) line += " -x -a '(__fish_complete_directories)'";
      else line += " -x";
    }
    line += " -d " + single_quoted_fish(spec.help);
    out += line + "\n";
  }
  return out;
}

}  // namespace quicc::cli

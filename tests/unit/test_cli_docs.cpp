#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>
#include <utility>
#include <variant>

#include "cli/docs.hpp"
#include "cli/exit_codes.hpp"
#include "cli/log_sink.hpp"
#include "cli/options.hpp"

using namespace quicc;

namespace {

// The man page's word for each event: its fields by name.
std::map<std::string, std::set<std::string>> documented_events() {
  std::map<std::string, std::set<std::string>> out;
  for (const auto& e : cli::event_docs()) {
    auto& fields = out[std::string(e.name)];
    std::string_view rest = e.fields;
    while (!rest.empty()) {
      size_t bar = rest.find('|');
      std::string_view field = rest.substr(0, bar);
      fields.emplace(field.substr(0, field.find('=')));
      if (bar == std::string_view::npos) break;
      rest.remove_prefix(bar + 1);
    }
  }
  return out;
}

template <size_t... I>
std::vector<EventData> every_alternative(std::index_sequence<I...>) {
  return {EventData{std::variant_alternative_t<I, EventData>{}}...};
}

}  // namespace

TEST_CASE("cli::event_docs: every event the log writes, and every field, is documented") {
  std::vector<EventData> samples =
      every_alternative(std::make_index_sequence<std::variant_size_v<EventData>>{});
  // The fields a default event leaves out.
  samples.push_back(HandshakeStartEvent{"[::1]:1", 1, 2});
  HandshakeDoneEvent done;
  done.rtt_us = 1;
  samples.push_back(done);
  samples.push_back(StreamEvent{0, StreamChange::reset_received, 7});
  samples.push_back(PeerStreamEvent{1, PeerStreamChange::text, "hi", std::nullopt});
  samples.push_back(PeerStreamEvent{1, PeerStreamChange::ended, "stream-1", 3});
  SessionTicketEvent ticket;
  ticket.saved_to = "f";
  samples.push_back(ticket);
  CloseEvent close;
  close.closing_period = "waited";
  samples.push_back(close);
  ErrorEvent error;
  error.outcome.peer_data = "pong";
  samples.push_back(error);

  auto docs = documented_events();
  std::set<std::string> seen;
  for (const auto& data : samples) {
    cli::EventRecord record = cli::record_of(data);
    std::string name(record.name);
    CAPTURE(name);
    seen.insert(name);
    REQUIRE(docs.contains(name));
    for (const auto& field : record.fields) {
      std::string field_name(field.key);
      CAPTURE(field_name);
      CHECK(docs[name].contains(field_name));
    }
  }
  // And nothing documented that the log never writes.
  for (const auto& [name, fields] : docs) {
    CAPTURE(name);
    CHECK(seen.contains(name));
  }
}

TEST_CASE("cli::man_page: every option, every exit code, the sections the issue names") {
  std::string man = cli::man_page();
  for (const char* section : {".SH NAME", ".SH SYNOPSIS", ".SH DESCRIPTION", ".SH OPTIONS",
                              ".SH EVENT LOG", ".SH EXIT STATUS", ".SH ENVIRONMENT",
                              ".SH EXAMPLES", ".SH SEE ALSO"}) {
    CAPTURE(section);
    CHECK(man.find(std::string("\n") + section + "\n") != std::string::npos);
  }
  for (const auto& spec : cli::option_table()) {
    std::string name;
    for (char c : cli::long_name(spec)) name += c == '-' ? std::string("\\-") : std::string(1, c);
    CAPTURE(name);
    CHECK(man.find("\\fB" + name + "\\fR") != std::string::npos);
  }
  for (const auto& e : cli::exit_code_table()) {
    CAPTURE(e.code);
    CHECK(man.find(".TP\n.B " + std::to_string(e.code) + "\n") != std::string::npos);
  }
  // No line of text starts with a control character roff would take as a request.
  size_t at = 0;
  while ((at = man.find("\n'", at)) != std::string::npos) FAIL("a line starts with '");
}

TEST_CASE("cli completions: values, files, and every option") {
  CHECK(cli::completion_values("--log-format") == "text json");
  CHECK(cli::completion_values("--help").ends_with(" all"));
  CHECK(cli::completion_values("--sni").empty());
  std::string bash = cli::bash_completion();
  std::string zsh = cli::zsh_completion();
  std::string fish = cli::fish_completion();
  for (const auto& spec : cli::option_table()) {
    std::string name(cli::long_name(spec));
    CAPTURE(name);
    CHECK(bash.find(" " + name) != std::string::npos);
    CHECK((zsh.find(name + "[") != std::string::npos || zsh.find(name + "=[") != std::string::npos));
    CHECK(fish.find(" -l " + name.substr(2) + " ") != std::string::npos);
  }
  CHECK(fish.find("-l cafile -r -F") != std::string::npos);
  CHECK(zsh.find("'--capath=[Trust the CA certificates in DIR]:DIR:_files -/'") != std::string::npos);
}

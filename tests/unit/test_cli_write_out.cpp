// -w/--write-out: parsing FORMAT (escapes, unknown variables) and rendering it from a run's
// summary, as tables.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cli/write_out.hpp"

using namespace quicc::cli;

namespace {

std::vector<Field> summary() {
  return {{"status", std::string("ok")},
          {"exit_code", uint64_t{0}},
          {"peer", std::string("[::1]:4433")},
          {"duration_ms", 1234.5},
          {"t_connect_ms", 2.0},
          {"t_handshake_ms", 12.25},
          {"t_first_byte_ms", 20.5},
          {"alpn", std::string("h3")},
          {"resumed", false},
          {"bytes_received", uint64_t{42}},
          {"close_reason", std::string("bye\x1b[2J")}};
}

std::string render(const std::string& format, const std::vector<Field>& fields = summary()) {
  std::string error;
  auto w = WriteOut::parse(format, error);
  REQUIRE_MESSAGE(w, error);
  return w->render(fields);
}

}  // namespace

TEST_CASE("cli::WriteOut renders variables and escapes") {
  struct Row {
    std::string format;
    std::string expected;
  };
  const Row rows[] = {
      {"%{time_handshake} %{alpn}\\n", "0.012250 h3\n"},
      {"%{time_total}", "1.234500"},
      {"%{time_starttransfer} %{t_first_byte_ms}", "0.020500 20.500"},
      {"%{time_connect}|%{time_namelookup}", "0.002000|0.000000"},  // no resolution: 0, as curl
      {"%{exitcode}/%{exit_code}/%{status}", "0/0/ok"},
      {"%{remote_ip} %{remote_port}", "::1 4433"},
      {"%{size_download} %{resumed}", "42 false"},
      {"%{errormsg}|%{cipher}", "|"},  // figures the run did not reach are empty
      {"100%% \\t\\\\ \\r", "100% \t\\ \r"},
      {"plain", "plain"},
      {"%{close_reason}", "bye\\x1b[2J"},  // peer text escaped as on the terminal
  };
  for (const Row& r : rows) {
    CAPTURE(r.format);
    CHECK(render(r.format) == r.expected);
  }
  // Stray '%' and '\' stay as they are.
  CHECK(render("50% \\x") == "50% \\x");
  // json: the whole summary, as --json prints it.
  CHECK(render("%{json}").starts_with("{\"status\":\"ok\",\"exit_code\":0,"));
}

TEST_CASE("cli::WriteOut::parse refuses what it cannot print") {
  struct Row {
    std::string format;
    std::string error;
  };
  const Row rows[] = {
      {"%{nope}", "--write-out: unknown variable 'nope' (time_total, time_handshake, alpn, "
                  "exitcode, ...: see quicc --help)"},
      {"%{alpn", "--write-out: '%{' without a closing '}'"},
      {"%{\x1b}", "--write-out: unknown variable '\\x1b' (time_total, time_handshake, alpn, "
                  "exitcode, ...: see quicc --help)"},
  };
  for (const Row& r : rows) {
    CAPTURE(r.format);
    std::string error;
    CHECK_FALSE(WriteOut::parse(r.format, error));
    CHECK(error == r.error);
  }
  // Every documented variable parses.
  for (const auto& v : write_out_variables()) {
    std::string error;
    CHECK_MESSAGE(WriteOut::parse("%{" + std::string(v.name) + "}", error), v.name);
  }
}

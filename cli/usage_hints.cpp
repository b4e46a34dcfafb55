#include "usage_hints.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

namespace quicc::cli {

namespace {

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
// neighbouring letters each cost 1.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

std::string either(const std::vector<std::string_view>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

}  // namespace

std::optional<std::string> closest_option(std::string_view typed,
                                          std::span<const std::string_view> names) {
  // "--name=value": the name; "-name": as if it had two dashes.
  typed = typed.substr(0, typed.find('='));
  std::string wanted(typed);
  if (wanted.size() > 2 && wanted[0] == '-' && wanted[1] != '-') wanted = "-" + wanted;
  if (wanted.size() <= 2 || wanted.compare(0, 2, "--") != 0) return std::nullopt;

  std::vector<std::string_view> prefixed;
  for (std::string_view name : names)
    if (name.size() > wanted.size() && name.substr(0, wanted.size()) == wanted) prefixed.push_back(name);
  if (!prefixed.empty() && prefixed.size() <= 3) return either(prefixed);

  size_t letters = wanted.size() - 2;
  size_t allowed = letters <= 4 ? 1 : letters <= 8 ? 2 : 3;
  size_t best = allowed + 1;
  std::vector<std::string_view> nearest;
  for (std::string_view name : names) {
    size_t d = edit_distance(wanted.substr(2), name.substr(2));
    if (d < best) {
      best = d;
      nearest.clear();
    }
    if (d == best) nearest.push_back(name);
  }
  if (nearest.empty() || nearest.size() > 3) return std::nullopt;
  return either(nearest);
}

std::string unexpected_arguments_error(std::span<const std::string> extras, std::string_view target,
                                       std::span<const std::string_view> names) {
  // An unknown option first: it may have taken the target's place.
  for (const std::string& extra : extras) {
    if (extra.size() < 2 || extra[0] != '-') continue;
    std::string error = "unknown option '" + extra.substr(0, extra.find('=')) + "'";
    if (auto near = closest_option(extra, names)) error += ": did you mean " + *near + "?";
    return error + " (quicc --help all lists the options)";
  }
  const std::string& extra = extras.front();
  // "host 4433": HOST and PORT as two words.
  if (!target.empty() && target.find(':') == std::string_view::npos && all_digits(extra))
    return "HOST and PORT are one argument: did you mean " + std::string(target) + ":" + extra + "?";
  if (!target.empty())
    return "unexpected argument '" + extra + "' after the target " + std::string(target) +
           " (quicc takes one HOST:PORT)";
  return "unexpected argument '" + extra + "'";
}

std::optional<std::string> url_target_error(std::string_view target) {
  size_t scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return std::nullopt;
  std::string_view scheme = target.substr(0, scheme_end);
  std::string_view after = target.substr(scheme_end + 3);
  size_t authority_end = std::min(after.find_first_of("/?#"), after.size());
  std::string_view authority = after.substr(0, authority_end);
  std::string_view path = after.substr(authority_end);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos)
    authority = authority.substr(at + 1);
  std::string error = "'" + std::string(target) + "' is a URL; quicc takes HOST:PORT";
  if (authority.empty()) return error;
  // The port, if any: after the last ':' outside brackets.
  size_t colon = authority.rfind(':');
  size_t bracket = authority.rfind(']');
  bool has_port = colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket);
  std::string form(authority);
  // https's port is 443, as curl assumes; another scheme's is the user's to say.
  if (!has_port) form += scheme == "https" ? ":443" : ":PORT";
  error += ": did you mean " + form + "?";
  if (path.size() > 1 && path[0] == '/') error += " (a file: --get " + std::string(path) + ")";
  return error;
}

}  // namespace quicc::cli

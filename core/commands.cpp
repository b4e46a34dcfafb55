#include "commands.hpp"

#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <utility>

#include "close_info.hpp"

namespace quicc {

namespace {

constexpr size_t held_limit = 4096;

struct CommandName {
  char letter;
  UserCommand::Kind kind;
  const char* usage;
  const char* help;
};

constexpr CommandName commands[] = {
    {'.', UserCommand::Kind::quit, "~.", "end our side and close once it is acknowledged, then quit"},
    {'f', UserCommand::Kind::fin, "~f", "send FIN: end our side, keep reading the peer's"},
    {'r', UserCommand::Kind::reset, "~r CODE", "reset our side of the stream with CODE, then close"},
    {'k', UserCommand::Kind::key_update, "~k", "TLS key update"},
    {'c', UserCommand::Kind::close, "~c CODE [REASON]",
     "close the connection with application error CODE"},
    {'i', UserCommand::Kind::info, "~i", "connection and transfer figures"},
    {'l', UserCommand::Kind::list, "~l", "the streams and their state"},
    {'n', UserCommand::Kind::new_bidi, "~n", "open a bidirectional stream and send on it"},
    {'u', UserCommand::Kind::new_uni, "~u", "open a unidirectional stream and send on it"},
    {'s', UserCommand::Kind::use_stream, "~s [N]",
     "send on stream N (one of ours, ~l lists them); without N on the pipe's"},
};

// A QUIC error code as typed: decimal or 0x-hexadecimal, up to 2^62 - 1.
std::optional<uint64_t> parse_code(std::string_view text) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
    base = 16;
  }
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  if (value >= (uint64_t{1} << 62)) return std::nullopt;
  return value;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

char command_letter(UserCommand::Kind kind) {
  for (const auto& c : commands)
    if (c.kind == kind) return c.letter;
  return '?';
}

std::string command_text(const UserCommand& command) {
  switch (command.kind) {
    case UserCommand::Kind::quit: return "~. quit: closing once our data is acknowledged";
    case UserCommand::Kind::fin: return "~f FIN: our side is finished";
    case UserCommand::Kind::reset: return "~r resetting our side (code " + hex_code(command.code) + ")";
    case UserCommand::Kind::key_update: return "~k key update";
    case UserCommand::Kind::close:
      return "~c closing the connection (code " + hex_code(command.code) + ")" +
             (command.reason.empty() ? "" : ": " + command.reason);
    case UserCommand::Kind::info: return "~i info";
    case UserCommand::Kind::list: return "~l streams";
    case UserCommand::Kind::new_bidi: return "~n new bidirectional stream";
    case UserCommand::Kind::new_uni: return "~u new unidirectional stream";
    case UserCommand::Kind::use_stream:
      return command.has_stream ? "~s sending on stream " + std::to_string(command.code)
                                : std::string("~s sending on the pipe's stream");
    case UserCommand::Kind::send_data: return std::to_string(command.data.size()) + " bytes";
  }
  return "";
}

std::vector<std::string> command_help() {
  std::vector<std::string> lines{"commands, typed at the start of a line:"};
  for (const auto& c : commands) {
    std::string usage = c.usage;
    usage.resize(18, ' ');
    lines.push_back("  " + usage + c.help);
  }
  lines.push_back("  ~~                send a line that begins with ~");
  lines.push_back("  ~?                this help");
  lines.push_back("Ctrl-D ends our side as --on-eof says; Ctrl-C closes, a second one at once");
  return lines;
}

TypedLine parse_typed_line(std::string_view line) {
  TypedLine out;
  if (line.size() < 2 || line[0] != '~') {
    out.data = line;
    return out;
  }
  // A command's letter is alone on the line or followed by blanks and its arguments.
  std::string_view rest = line.substr(2);
  bool command_shaped = rest.empty() || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\n' ||
                        rest[0] == '\r';
  if (line[1] == '~') {
    out.data = line.substr(1);
    return out;
  }
  if (!command_shaped) {
    out.data = line;
    return out;
  }
  std::string_view args = trim(rest);
  if (line[1] == '?') {
    out.kind = TypedLine::Kind::help;
    return out;
  }
  const CommandName* name = nullptr;
  for (const auto& c : commands)
    if (c.letter == line[1]) name = &c;
  if (!name) {
    out.data = line;
    return out;
  }
  out.kind = TypedLine::Kind::command;
  out.command.kind = name->kind;
  auto fail = [&](std::string why) {
    out.kind = TypedLine::Kind::error;
    out.error = std::string(name->usage) + ": " + why;
    return out;
  };
  std::string_view code_text = args.substr(0, args.find_first_of(" \t"));
  std::string_view reason =
      code_text.size() < args.size() ? trim(args.substr(code_text.size())) : std::string_view();
  switch (name->kind) {
    case UserCommand::Kind::reset:
    case UserCommand::Kind::close: {
      if (code_text.empty()) return fail("needs an error code (decimal or 0x...)");
      auto code = parse_code(code_text);
      if (!code) return fail("bad error code \"" + std::string(code_text) + "\" (0 to 2^62-1)");
      if (name->kind == UserCommand::Kind::reset && !reason.empty())
        return fail("takes only a code");
      out.command.code = *code;
      out.command.reason = reason;
      return out;
    }
    case UserCommand::Kind::use_stream: {
      if (args.empty()) return out;
      if (!reason.empty()) return fail("takes one stream number");
      auto id = parse_code(code_text);
      if (!id) return fail("bad stream number \"" + std::string(code_text) + "\"");
      out.command.code = *id;
      out.command.has_stream = true;
      return out;
    }
    default:
      if (!args.empty()) return fail("takes no arguments");
      return out;
  }
}

void TypedInput::feed(std::string_view chunk, std::vector<TypedLine>& out) {
  while (!chunk.empty()) {
    if (held_.empty() && at_line_start_ && chunk.front() != '~') at_line_start_ = false;
    size_t newline = chunk.find('\n');
    size_t end = newline == std::string_view::npos ? chunk.size() : newline + 1;
    std::string_view piece = chunk.substr(0, end);
    chunk.remove_prefix(end);
    if (!at_line_start_) {
      // Data to the end of the line, at once.
      if (!out.empty() && out.back().kind == TypedLine::Kind::data)
        out.back().data += piece;
      else
        out.push_back(TypedLine{TypedLine::Kind::data, std::string(piece), {}, {}});
      if (newline != std::string_view::npos) at_line_start_ = true;
      continue;
    }
    held_ += piece;
    if (newline != std::string_view::npos) {
      out.push_back(parse_typed_line(held_));
      held_.clear();
    } else if (held_.size() > held_limit) {
      out.push_back(TypedLine{TypedLine::Kind::data, std::move(held_), {}, {}});
      held_.clear();
      at_line_start_ = false;
    }
  }
}

void TypedInput::finish(std::vector<TypedLine>& out) {
  if (held_.empty()) return;
  out.push_back(parse_typed_line(held_));
  held_.clear();
}

void CommandQueue::push(UserCommand command) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(command));
  }
  ++pushed_;
  if (wake_write_fd_ >= 0) {
    char c = 2;
    [[maybe_unused]] ssize_t n = ::write(wake_write_fd_, &c, 1);
  }
}

std::optional<StreamChoice> CommandQueue::push_and_wait(UserCommand command) {
  {
    std::lock_guard lock(mutex_);
    answer_.reset();
  }
  push(std::move(command));
  std::unique_lock lock(mutex_);
  answered_.wait(lock, [this] { return answer_ || shut_; });
  if (!answer_) return std::nullopt;
  return std::exchange(answer_, std::nullopt);
}

void CommandQueue::answer(StreamChoice choice) {
  {
    std::lock_guard lock(mutex_);
    answer_ = choice;
  }
  answered_.notify_all();
}

void CommandQueue::shut() {
  {
    std::lock_guard lock(mutex_);
    shut_ = true;
  }
  answered_.notify_all();
}

std::vector<UserCommand> CommandQueue::take() {
  std::lock_guard lock(mutex_);
  taken_.store(pushed_.load());
  return std::exchange(queue_, {});
}

}  // namespace quicc

#include "terminal.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>

namespace quicc {

TerminalFront::TerminalFront(int terminal_fd, int wake_write_fd, Emitter& emitter, bool crlf)
    : terminal_fd_(terminal_fd), emitter_(emitter), queue_(wake_write_fd), crlf_(crlf) {}

TerminalFront::~TerminalFront() {
  stop();
  for (int fd : {data_read_, data_write_, stop_read_, stop_write_})
    if (fd >= 0) ::close(fd);
}

bool TerminalFront::start() {
  int data[2], stop[2];
  if (::pipe2(data, O_CLOEXEC) != 0) return false;
  if (::pipe2(stop, O_CLOEXEC | O_NONBLOCK) != 0) {
    ::close(data[0]);
    ::close(data[1]);
    return false;
  }
  data_read_ = data[0];
  data_write_ = data[1];
  // Only our end is non-blocking: the driver's end stays as stdin would be (local_io.hpp).
  ::fcntl(data_write_, F_SETFL, ::fcntl(data_write_, F_GETFL) | O_NONBLOCK);
  stop_read_ = stop[0];
  stop_write_ = stop[1];
  thread_ = std::thread([this] { loop(); });
  return true;
}

void TerminalFront::stop() {
  if (!thread_.joinable()) return;
  queue_.shut();
  char c = 1;
  [[maybe_unused]] ssize_t n = ::write(stop_write_, &c, 1);
  thread_.join();
}

std::string TerminalFront::widen(std::string_view typed) {
  if (!crlf_) return std::string(typed);
  std::string widened;
  for (char c : typed) {
    if (c == '\n' && !last_cr_) widened += '\r';
    widened += c;
    last_cr_ = c == '\r';
  }
  return widened;
}

bool TerminalFront::send(std::string_view typed) {
  std::string widened = widen(typed);
  std::string_view data = widened;
  written_ += data.size();
  while (!data.empty()) {
    ssize_t n = ::write(data_write_, data.data(), data.size());
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) return false;
    // The driver has not read the pipe yet (flow control, a slow peer): wait for room.
    pollfd fds[2] = {{data_write_, POLLOUT, 0}, {stop_read_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return false;
    if (fds[1].revents) return false;
  }
  return true;
}

void TerminalFront::end_input() {
  if (input_over_) return;
  input_over_ = true;
  ::close(data_write_);
  data_write_ = -1;
}

void TerminalFront::loop() {
  TypedInput typed;
  std::vector<TypedLine> lines;
  char buf[16384];
  bool reading = true;
  while (reading) {
    pollfd fds[2] = {{terminal_fd_, POLLIN, 0}, {stop_read_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents) return;
    ssize_t n = ::read(terminal_fd_, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    lines.clear();
    if (n <= 0) {
      // Ctrl-D at the start of a line, or the end of the input: --on-eof decides.
      typed.finish(lines);
      reading = false;
    } else {
      typed.feed(std::string_view(buf, static_cast<size_t>(n)), lines);
    }
    for (TypedLine& line : lines) {
      switch (line.kind) {
        case TypedLine::Kind::data:
          if (other_stream_) {
            UserCommand command;
            command.kind = UserCommand::Kind::send_data;
            command.data = widen(line.data);
            command.after_bytes = written_;
            queue_.push(std::move(command));
          } else if (input_over_) {
            note("not sent: our side of the stream is finished (~? for commands)");
          } else if (!send(line.data)) {
            return;
          }
          break;
        case TypedLine::Kind::help:
          for (auto& text : command_help()) note(std::move(text));
          break;
        case TypedLine::Kind::error:
          note(line.error);
          break;
        case TypedLine::Kind::command: {
          auto kind = line.command.kind;
          if (kind == UserCommand::Kind::new_bidi || kind == UserCommand::Kind::new_uni ||
              kind == UserCommand::Kind::use_stream) {
            line.command.after_bytes = written_;
            auto choice = queue_.push_and_wait(std::move(line.command));
            if (!choice) return;  // the session is over
            if (choice->ok) other_stream_ = !choice->pipe;
            break;
          }
          // ~f and ~r on a stream of ~n or ~u end that stream, not the pipe's input.
          bool ends_input = kind == UserCommand::Kind::quit ||
                            (!other_stream_ && (kind == UserCommand::Kind::fin ||
                                                kind == UserCommand::Kind::reset));
          if (ends_input && input_over_ && kind != UserCommand::Kind::quit) {
            note(std::string("~") + command_letter(kind) +
                 ": our side of the stream is finished already");
            break;
          }
          line.command.after_bytes = written_;
          queue_.push(std::move(line.command));
          if (ends_input) end_input();
          break;
        }
      }
    }
  }
  end_input();
}

}  // namespace quicc

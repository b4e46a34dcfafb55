#include "engine.hpp"

#include <cerrno>
#include <cstring>

#include "event_loop.hpp"
#include "session.hpp"
#include "terminal.hpp"

namespace quicc {

bool worth_retrying(const Outcome& outcome) {
  return outcome.status == Status::handshake_timeout ||
         outcome.status == Status::port_unreachable;
}

namespace {

Outcome run_role(const Config& config, Emitter& emitter);

}  // namespace

Outcome run(const Config& config, EventSink& sink) {
  Emitter emitter(sink);
  if (!config.interactive) return run_role(config, emitter);
  // A terminal session: the terminal's reader stands between the input and the driver.
  TerminalFront front(config.input_fd, config.interrupts.wake_write_fd, emitter, config.crlf);
  if (!front.start()) {
    Outcome outcome{Status::io_error, std::string("terminal session: ") + std::strerror(errno)};
    emitter.emit(ErrorEvent{outcome});
    return outcome;
  }
  Config session = config;
  session.input_fd = front.input_fd();
  session.crlf = false;  // the terminal's reader does it
  session.interrupts.commands = &front.commands();
  Outcome outcome = run_role(session, emitter);
  front.stop();
  return outcome;
}

namespace {

Outcome run_role(const Config& config, Emitter& emitter) {
  InterruptWatch interrupts(config.interrupts);
  if (config.role != Role::client) {
    Outcome outcome = run_listener(config, emitter, interrupts);
    if (!outcome.ok()) emitter.emit(ErrorEvent{outcome});
    return outcome;
  }
  Outcome outcome;
  for (unsigned attempt = 1;; ++attempt) {
    outcome = run_client(config, emitter, interrupts);
    if (outcome.ok() || attempt > config.retry || !worth_retrying(outcome)) break;
    emitter.emit(WarningEvent{"attempt " + std::to_string(attempt) + " of " +
                              std::to_string(config.retry + 1) + " failed, trying again in " +
                              duration_text(config.retry_delay) + ": " + outcome.message});
    // The wait is interruptible, as every other one.
    auto until = Clock::now() + config.retry_delay;
    while (interrupts.take_new() == 0 && Clock::now() < until)
      wait_readable({}, interrupts.wake_fd(), until);
    if (Clock::now() < until) {
      outcome = interrupted_outcome(interrupts.signal());
      break;
    }
  }
  if (!outcome.ok()) emitter.emit(ErrorEvent{outcome});
  return outcome;
}

}  // namespace

}  // namespace quicc

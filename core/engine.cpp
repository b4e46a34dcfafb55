#include "engine.hpp"

#include <csignal>

namespace quicc {

Outcome run(const Config& config, EventSink& sink) {
  // A peer or a reader that goes away must show up as an error code, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  Emitter emitter(sink);
  Outcome outcome =
      config.role == Role::client ? run_client(config, emitter) : run_listener(config, emitter);
  if (!outcome.ok()) emitter.emit(ErrorEvent{outcome});
  return outcome;
}

}  // namespace quicc

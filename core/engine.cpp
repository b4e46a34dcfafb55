#include "engine.hpp"

namespace quicc {

Outcome run(const Config& config, EventSink& sink) {
  Emitter emitter(sink);
  InterruptWatch interrupts(config.interrupts);
  Outcome outcome = config.role == Role::client ? run_client(config, emitter, interrupts)
                                                : run_listener(config, emitter, interrupts);
  if (!outcome.ok()) emitter.emit(ErrorEvent{outcome});
  return outcome;
}

}  // namespace quicc

#include "many_run.hpp"

#include <cstdio>
#include <map>
#include <memory>
#include <mutex>

#include "cli/exit_codes.hpp"
#include "cli/many_report.hpp"
#include "cli/process.hpp"
#include "cli/stats.hpp"

namespace quicc::cli {

namespace {

// Passes events on stamped with the connection's number; the runs emit from their own
// threads, so the shared sink is entered one event at a time.
class StampingSink : public EventSink {
 public:
  StampingSink(EventSink& next, std::mutex& mutex, uint64_t number)
      : next_(next), mutex_(mutex), number_(number) {}
  void on_event(const Event& event) override {
    Event stamped = event;
    stamped.connection = number_;
    std::lock_guard lock(mutex_);
    next_.on_event(stamped);
  }
  bool wants_ticks() const override { return next_.wants_ticks(); }
  bool wants_trace() const override { return next_.wants_trace(); }

 private:
  EventSink& next_;
  std::mutex& mutex_;
  uint64_t number_;
};

class CountObserver : public ManyObserver {
 public:
  CountObserver(EventSink& log, const ManyReporting& reporting) : log_(log), reporting_(reporting) {}

  EventSink& sink(uint64_t n) override {
    std::lock_guard lock(mutex_);
    auto& c = connections_[n];
    c = std::make_unique<Connection>(log_, log_mutex_, n);
    return c->stats;
  }

  void finished(uint64_t n, const Outcome& outcome) override {
    std::unique_ptr<Connection> c;
    {
      std::lock_guard lock(mutex_);
      c = std::move(connections_[n]);
      connections_.erase(n);
    }
    int code = exit_code_for(outcome);
    ConnectionResult r{n, outcome.status, code, {{"connection", n}}};
    for (auto& f : c->stats.summary(outcome, code)) r.summary.push_back(std::move(f));
    std::lock_guard lock(mutex_);
    report(r);
    results_.push_back(std::move(r));
  }

  // Called once every connection is over.
  int finish(const Outcome& whole, uint64_t planned) {
    auto a = aggregate(results_, planned);
    std::string text = aggregate_text(a);
    std::fputs(text.c_str(), stderr);
    emit_json(stats_json(a));
    if (!whole.ok()) return exit_code_for(whole);
    return aggregate_exit_code(results_);
  }

 private:
  struct Connection {
    Connection(EventSink& log, std::mutex& mutex, uint64_t n) : stamp(log, mutex, n), stats(stamp) {}
    StampingSink stamp;
    StatsCollector stats;
  };

  void report(const ConnectionResult& r) {
    emit_json(stats_json(r.summary));
    if (reporting_.write_out) {
      std::string text = reporting_.write_out->render(r.summary);
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
    }
  }

  void emit_json(const std::string& line) {
    if (reporting_.json) std::fprintf(stderr, "%s\n", line.c_str());
    std::string error;
    if (!reporting_.json_file.empty() && !append_json_line(reporting_.json_file, line, error))
      std::fprintf(stderr, "quicc: warning: %s\n", error.c_str());
  }

  EventSink& log_;
  const ManyReporting& reporting_;
  std::mutex mutex_;      // connections_, results_ and the report lines
  std::mutex log_mutex_;  // the shared log
  std::map<uint64_t, std::unique_ptr<Connection>> connections_;
  std::vector<ConnectionResult> results_;
};

}  // namespace

int run_count(const Config& config, const ManyPlan& plan, EventSink& log,
              const ManyReporting& reporting) {
  CountObserver observer(log, reporting);
  Outcome whole = run_many(config, plan, observer);
  if (!whole.ok() && whole.status != Status::interrupted) {
    std::fprintf(stderr, "quicc: error: %s\n", whole.message.c_str());
    return exit_code_for(whole);
  }
  return observer.finish(whole, plan.count);
}

}  // namespace quicc::cli

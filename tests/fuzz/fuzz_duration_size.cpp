// Durations (--timeout, --idle-timeout, --interval, ...) and sizes (--source, --upload,
// --key-update, ...) from the command line (cli/config_builder.cpp): accepted values stay in
// their documented range, and their canonical spelling reads back as the same value.
#include <cstdint>
#include <string>

#include "cli/config_builder.hpp"
#include "fuzz_check.hpp"

using quicc::fuzz::require;

namespace {

void check_duration(std::string_view text) {
  std::string error;
  auto d = quicc::cli::parse_duration(text, error);
  require(d || !error.empty(), "a refused duration says why");
  if (!d) return;
  int64_t ms = d->count();
  require(ms >= 0 && ms <= 1'000'000'000'000, "a duration is 0 to 1e12 ms");
  // Below 1 ms is refused, so zero is only ever spelt with zeros.
  if (ms == 0) require(text.find_first_of("123456789") == std::string_view::npos, "only a zero is 0 ms");
  std::string again_error;
  auto again = quicc::cli::parse_duration(std::to_string(ms) + "ms", again_error);
  require(again && *again == *d, "N ms reads back as N ms");
}

void check_size(std::string_view text) {
  std::string error;
  auto size = quicc::cli::parse_size(text, error);
  require(size || !error.empty(), "a refused size says why");
  if (!size) return;
  require(*size <= (uint64_t{1} << 50), "a size is at most 1 PiB");
  std::string again_error;
  auto again = quicc::cli::parse_size(std::to_string(*size), again_error);
  require(again && *again == *size, "a size in bytes reads back as itself");
  if (*size % 1024 == 0) {
    again = quicc::cli::parse_size(std::to_string(*size / 1024) + "k", again_error);
    require(again && *again == *size, "a whole number of KiB reads back with the k suffix");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = quicc::fuzz::text_of(data, size);
  check_duration(text);
  check_size(text);
  return 0;
}

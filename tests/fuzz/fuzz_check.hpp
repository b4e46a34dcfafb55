// What the fuzz targets share: a property check whose failure libFuzzer records as a crash.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace quicc::fuzz {

// abort() rather than assert(): NDEBUG builds keep the check, and libFuzzer saves the input
// that broke it as crash-<sha1> next to the message.
inline void require(bool holds, const char* property) {
  if (holds) return;
  std::fprintf(stderr, "fuzz property broken: %s\n", property);
  std::abort();
}

inline std::string_view text_of(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace quicc::fuzz

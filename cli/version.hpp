// `quicc --version`: quicc's version, the OpenSSL it runs on, and that build's optional features.
#pragma once

#include <string>

namespace quicc::cli {

std::string version_text();

}  // namespace quicc::cli

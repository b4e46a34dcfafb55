// quicc_docs DIR: writes the documents generated from the option table (cli/docs.hpp) under
// DIR: man/quicc.1, completions/quicc.bash, completions/_quicc, completions/quicc.fish.
// scripts/gen_docs.sh runs it on the source tree; tests/docs_drift.sh on a scratch directory.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "cli/docs.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fputs("usage: quicc_docs DIR\n", stderr);
    return 2;
  }
  namespace fs = std::filesystem;
  const fs::path dir = argv[1];
  struct Doc {
    const char* path;
    std::string text;
  } docs[] = {
      {"man/quicc.1", quicc::cli::man_page()},
      {"completions/quicc.bash", quicc::cli::bash_completion()},
      {"completions/_quicc", quicc::cli::zsh_completion()},
      {"completions/quicc.fish", quicc::cli::fish_completion()},
  };
  for (const auto& doc : docs) {
    fs::path path = dir / doc.path;
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << doc.text;
    out.close();
    if (!out) {
      std::fprintf(stderr, "quicc_docs: cannot write %s\n", path.c_str());
      return 1;
    }
  }
  return 0;
}

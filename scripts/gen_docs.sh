#!/usr/bin/env bash
# Regenerates the man page and the shell completions from the option table (cli/options.cpp,
# through cli/docs.cpp): man/quicc.1, completions/quicc.bash, completions/_quicc,
# completions/quicc.fish. Commit what it changes; tests/docs.sh fails until the committed files
# match. Builds build/ first (scripts/build.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh >/dev/null
build/app/quicc_docs .
git status --short man completions

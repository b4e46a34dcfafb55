#!/usr/bin/env bash
# `cmake --install` to a scratch prefix puts exactly the five files where their tools look:
# the binary, the man page, and the bash, zsh and fish completions. BUILD_DIR: the build tree.
set -euo pipefail
: "${BUILD_DIR:?}"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/quicc-install.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
cmake --install "$BUILD_DIR" --prefix "$TMP/prefix" >"$TMP/install.log" 2>&1 || {
  cat "$TMP/install.log" >&2
  echo "FAIL: install: cmake --install failed" >&2
  exit 1
}
(cd "$TMP/prefix" && find . -type f | sed 's|^\./||' | sort) >"$TMP/files"
cat >"$TMP/expected" <<'LIST'
bin/quicc
share/bash-completion/completions/quicc
share/fish/vendor_completions.d/quicc.fish
share/man/man1/quicc.1
share/zsh/site-functions/_quicc
LIST
if ! cmp -s "$TMP/files" "$TMP/expected"; then
  echo "FAIL: install: installed files differ from the five expected:" >&2
  diff -u "$TMP/expected" "$TMP/files" >&2 || true
  exit 1
fi
"$TMP/prefix/bin/quicc" --version >/dev/null || { echo "FAIL: install: the installed quicc does not run" >&2; exit 1; }
echo "PASS: install: $(tr '\n' ' ' <"$TMP/files")"

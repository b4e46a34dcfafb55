#!/usr/bin/env bash
# The generated reference documents (issue 14), checked against the real tools:
#   drift       quicc_docs regenerates man/quicc.1 and completions/*: each must equal the
#               committed file (else: run scripts/gen_docs.sh and commit);
#   man         groff -man -ww renders the page without a warning, and the rendered page
#               (man -l) names every option `quicc --help all` lists;
#   bash        the completion function, driven as bash drives it (COMP_WORDS, COMP_CWORD),
#               completes `quicc --al` to --alpn, `--log-format ` to text and json, and a
#               --cafile argument to file names;
#   fish        `complete -C` on the sourced file gives the same candidates;
#   zsh         the file parses (zsh -n) and compinit registers it for quicc.
# Environment: QUICC, QUICC_DOCS (the binaries), SOURCE_DIR (the tree whose files are checked).
set -euo pipefail
: "${QUICC:?}" "${QUICC_DOCS:?}" "${SOURCE_DIR:?}"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/quicc-docs.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
failures=0
fail() {
  echo "FAIL: docs: $*" >&2
  failures=$((failures + 1))
}

# --- drift
"$QUICC_DOCS" "$TMP/gen"
for f in man/quicc.1 completions/quicc.bash completions/_quicc completions/quicc.fish; do
  if ! cmp -s "$TMP/gen/$f" "$SOURCE_DIR/$f"; then
    fail "$f is not what the option table (cli/options.cpp) gives: run scripts/gen_docs.sh and commit the result"
    diff -u "$SOURCE_DIR/$f" "$TMP/gen/$f" | head -n 20 >&2 || true
  fi
done

# --- man: no warning, every option shown
MAN=$SOURCE_DIR/man/quicc.1
warnings=$(groff -man -Tutf8 -ww -z "$MAN" 2>&1) || fail "groff failed on man/quicc.1"
[ -z "$warnings" ] || fail "groff -ww warns about man/quicc.1: $(head -c 600 <<<"$warnings")"
MANWIDTH=80 man -l "$MAN" 2>"$TMP/man.err" | col -b >"$TMP/man.txt" || fail "man -l man/quicc.1 failed"
[ ! -s "$TMP/man.err" ] || fail "man -l printed: $(head -c 300 "$TMP/man.err")"
"$QUICC" --help all >"$TMP/help.txt"
grep -oE '^(  -[a-zA-Z0-9], |      )--[a-z0-9-]+' "$TMP/help.txt" | sed -E 's/^ +(-., )?//' >"$TMP/options"
[ "$(wc -l <"$TMP/options")" -gt 50 ] || fail "quicc --help all lists only $(wc -l <"$TMP/options") options"
shown=0
while read -r option; do
  if grep -qE -- "^ {7}(-[a-zA-Z0-9], )?$option( |$)" "$TMP/man.txt"; then
    shown=$((shown + 1))
  else
    fail "man -l man/quicc.1 does not show $option as an option"
  fi
done <"$TMP/options"
for section in NAME SYNOPSIS DESCRIPTION OPTIONS 'EVENT LOG' 'EXIT STATUS' ENVIRONMENT EXAMPLES 'SEE ALSO'; do
  grep -qx "$section" "$TMP/man.txt" || fail "man page has no $section section"
done

# --- bash
bash_complete() {  # WORDS...: the candidates for the last word
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _quicc; printf "%s\n" "${COMPREPLY[@]}"' \
    _ "$SOURCE_DIR/completions/quicc.bash" "$@"
}
got=$(bash_complete quicc --al | tr '\n' ' ')
[ "$got" = "--alpn " ] || fail "bash: quicc --al<TAB> gave '$got', expected --alpn"
got=$(bash_complete quicc --log-format '' | tr '\n' ' ')
[ "$got" = "text json " ] || fail "bash: quicc --log-format <TAB> gave '$got', expected text json"
touch "$TMP/ca-bundle.pem"
got=$(bash_complete quicc --cafile "$TMP/ca-" | tr '\n' ' ')
[ "$got" = "$TMP/ca-bundle.pem " ] || fail "bash: quicc --cafile $TMP/ca-<TAB> gave '$got'"
got=$(bash -c 'source "$1"; complete -p quicc' _ "$SOURCE_DIR/completions/quicc.bash")
[ "$got" = "complete -F _quicc quicc" ] || fail "bash: complete -p quicc gave '$got'"

# --- fish and zsh (scripts/bootstrap.sh installs both)
if command -v fish >/dev/null; then
  got=$(fish -c "source '$SOURCE_DIR/completions/quicc.fish'; complete -C'quicc --al'" | cut -f1 | tr '\n' ' ')
  [ "$got" = "--alpn " ] || fail "fish: quicc --al<TAB> gave '$got', expected --alpn"
  got=$(fish -c "source '$SOURCE_DIR/completions/quicc.fish'; complete -C'quicc --log-format '" | cut -f1 | sort | tr '\n' ' ')
  [ "$got" = "json text " ] || fail "fish: quicc --log-format <TAB> gave '$got', expected json and text"
else
  fail "fish is not installed (scripts/bootstrap.sh installs it)"
fi
if command -v zsh >/dev/null; then
  zsh -n "$SOURCE_DIR/completions/_quicc" 2>"$TMP/zsh.err" || fail "zsh -n completions/_quicc: $(head -c 300 "$TMP/zsh.err")"
  got=$(zsh -fc "fpath=('$SOURCE_DIR/completions' \$fpath); autoload -Uz compinit; compinit -u -d '$TMP/zcompdump'; print -r -- \$_comps[quicc]" 2>&1)
  [ "$got" = _quicc ] || fail "zsh: compinit registered '$got' for quicc, expected _quicc"
else
  fail "zsh is not installed (scripts/bootstrap.sh installs it)"
fi

[ "$failures" = 0 ] || exit 1
echo "PASS: docs: 4 files as generated; man page lint-free, showing all $shown options; bash, fish and zsh completions work"

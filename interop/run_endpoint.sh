#!/usr/bin/env bash
# quicc as an endpoint of the QUIC interop runner (its run_endpoint.sh contract):
#   ROLE      client | server
#   TESTCASE  the runner's test case; an unsupported one exits 127
#   REQUESTS  (client) space-separated URLs: https://HOST:PORT/PATH ...
#   SSLKEYLOGFILE, QLOGDIR  read by quicc itself
# The client saves each response to /downloads (DOWNLOADS overrides) by the URL's base name and
# trusts /certs/ca.pem, or SSL_CERT_FILE when set. The server serves /www (WWW overrides) with
# /certs/cert.pem and /certs/priv.key (CERTS overrides the directory) on port 443 (PORT).
# quicc is QUICC, else the one on PATH. Extra arguments: CLIENT_PARAMS / SERVER_PARAMS.
set -u

QUICC=${QUICC:-quicc}
DOWNLOADS=${DOWNLOADS:-/downloads}
CERTS=${CERTS:-/certs}
CA=${SSL_CERT_FILE:-$CERTS/ca.pem}

# In the runner's containers: routing first, then wait for the network simulator.
[ -x /setup.sh ] && /setup.sh
[ "${ROLE:-}" = client ] && [ -x /wait-for-it.sh ] && /wait-for-it.sh sim:57832 -s -t 30

unsupported() {
  echo "unsupported test case: ${TESTCASE:-}" >&2
  exit 127
}

# The authority (host:port, brackets kept for IPv6) and the paths of REQUESTS.
AUTHORITY=
PATHS=()
parse_requests() {
  local url rest authority
  for url in ${REQUESTS:-}; do
    rest=${url#*://}
    authority=${rest%%/*}
    [ -n "$AUTHORITY" ] || AUTHORITY=$authority
    if [ "$authority" != "$AUTHORITY" ]; then
      echo "REQUESTS name more than one server: $AUTHORITY and $authority" >&2
      exit 1
    fi
    case $rest in */*) PATHS+=("/${rest#*/}") ;; *) PATHS+=(/) ;; esac
  done
  if [ -z "$AUTHORITY" ] || [ "${#PATHS[@]}" = 0 ]; then
    echo "REQUESTS names no URL" >&2
    exit 1
  fi
  # A port unless it is given: "[::1]:4433" and "host:4433" have one, "[::1]" and "host" not.
  case $AUTHORITY in
    \[*\]:*) ;;
    \[*) AUTHORITY=$AUTHORITY:443 ;;
    *:*) ;;
    *) AUTHORITY=$AUTHORITY:443 ;;
  esac
}

# fetch OPTION... -- PATH...: one connection requesting every PATH.
fetch() {
  local args=() list rc=0
  while [ "$1" != -- ]; do args+=("$1"); shift; done
  shift
  list=$(mktemp) || exit 1
  printf '%s\n' "$@" >"$list"
  # shellcheck disable=SC2086  # CLIENT_PARAMS is a word list on purpose
  "$QUICC" --cafile "$CA" --output-dir "$DOWNLOADS" --get-list "$list" -v ${CLIENT_PARAMS:-} \
    "${args[@]}" "$AUTHORITY" || rc=$?
  rm -f "$list"
  return "$rc"
}

client() {
  parse_requests
  mkdir -p "$DOWNLOADS"
  case ${TESTCASE:-} in
    handshake|transfer|multiplexing|retry|http09)
      fetch -- "${PATHS[@]}" ;;
    ipv6)
      fetch -6 -- "${PATHS[@]}" ;;
    chacha20)
      fetch --ciphersuites TLS_CHACHA20_POLY1305_SHA256 -- "${PATHS[@]}" ;;
    keyupdate)
      fetch --key-update 0 -- "${PATHS[@]}" ;;
    resumption)
      # The first file on one connection, saving the ticket; the rest on a second one that
      # resumes the session.
      local session
      session=$(mktemp) || exit 1
      fetch --session-out "$session" -- "${PATHS[0]}" || { rm -f "$session"; exit 1; }
      if [ "${#PATHS[@]}" -gt 1 ]; then
        fetch --session-in "$session" -- "${PATHS[@]:1}" || { rm -f "$session"; exit 1; }
      fi
      rm -f "$session" ;;
    multiconnect)
      local p
      for p in "${PATHS[@]}"; do fetch -- "$p" || exit 1; done ;;
    *)
      unsupported ;;
  esac
}

server() {
  case ${TESTCASE:-} in
    handshake|transfer|multiplexing|chacha20|keyupdate|resumption|multiconnect|ipv6|http09) ;;
    *) unsupported ;;
  esac
  # shellcheck disable=SC2086  # SERVER_PARAMS is a word list on purpose
  exec "$QUICC" --listen "${PORT:-443}" --serve "${WWW:-/www}" --keep-open \
    --cert "$CERTS/cert.pem" --key "$CERTS/priv.key" -v ${SERVER_PARAMS:-}
}

case ${ROLE:-} in
  client) client ;;
  server) server ;;
  *) echo "ROLE must be client or server (got '${ROLE:-}')" >&2; exit 127 ;;
esac

# bash completion for quicc; generated from its option table (cli/options.cpp) by
# quicc_docs: do not edit.
_quicc() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  case $prev in
    --peer-streams)
      COMPREPLY=($(compgen -W 'accept reject ignore' -- "$cur"))
      return ;;
    --alpn)
      COMPREPLY=($(compgen -W 'quicc hq-interop h3 perf' -- "$cur"))
      return ;;
    --on-eof)
      COMPREPLY=($(compgen -W 'fin close ignore reset' -- "$cur"))
      return ;;
    --shutdown)
      COMPREPLY=($(compgen -W 'graceful full rapid' -- "$cur"))
      return ;;
    --ciphersuites)
      COMPREPLY=($(compgen -W 'TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256' -- "$cur"))
      return ;;
    --groups)
      COMPREPLY=($(compgen -W 'X25519MLKEM768 X25519 P-256 P-384 P-521 X448' -- "$cur"))
      return ;;
    --log-format)
      COMPREPLY=($(compgen -W 'text json' -- "$cur"))
      return ;;
    -h|--help)
      COMPREPLY=($(compgen -W 'connection requests scripted listener ending security output advanced general all' -- "$cur"))
      return ;;
    --get-list|-o|--output|--send-file|--session-out|--session-in|--cafile|--cert|--key|--keylog|--json-file|--log-file)
      COMPREPLY=($(compgen -f -- "$cur"))
      return ;;
    --serve|--output-dir|--capath|--qlog-dir)
      COMPREPLY=($(compgen -d -- "$cur"))
      return ;;
    -l|--listen|--source|--max-conns|--get|--max-streams|--upload|--download|--streams|--duration|--send|--expect|--count|--parallel|--interval|--retry|--retry-delay|--sni|--connect-to|--idle-timeout|--key-update|--warn-days|--connect-timeout|--timeout|--idle-exit|--close-code|--close-reason|--pin-sha256|-w|--write-out)
      COMPREPLY=()
      return ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W '-l --listen --echo --serve --sink --source --perf --keep-open --max-conns --get --get-list --max-streams --upload --download --streams --duration --output-dir -o --output --peer-streams --send --send-file --expect --expect-close --count --parallel --interval --retry --retry-delay --alpn --sni --no-sni --connect-to -4 --ipv4 -6 --ipv6 --idle-timeout --session-out --session-in --key-update --check --warn-days --connect-timeout --timeout --idle-exit -C --crlf --interactive --no-interactive --progress --no-progress --send-only --recv-only --on-eof --shutdown --no-stream-flush --wait-peer --close-code --close-reason --partial-write --moving-buffer --cafile --capath -k --insecure --require-client-cert --ciphersuites --groups --pin-sha256 --cert --key --nonblocking --blocking -v --verbose --keylog --qlog-dir --stats --json --json-file -w --write-out --log-format --log-file -h --help -V --version' -- "$cur"))
  fi
}
complete -F _quicc quicc

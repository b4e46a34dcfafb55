#!/usr/bin/env bash
# --peer-streams in pipe mode, for a client and for a pipe listener, against stream_opener (a
# peer that opens an extra bidirectional and an extra unidirectional stream besides the pipe's;
# lib_stream_opener.sh). In every case the pipe's own 64 KiB arrive intact both ways and both
# sides exit 0 (opener_session):
#   accept              each extra stream's bytes are shown on stderr as "stream ID: ...",
#                       escaped (ESC and NUL never reach the terminal), then its end (FIN);
#                       the peer sees our FIN on the bidirectional one
#   accept --output-dir each is saved byte for byte to DIR/stream-ID (an older file replaced)
#   accept, peer resets each extra stream ended with the peer's code (0x9) in the log; the
#                       peer still gets our FIN on the bidirectional one
#   reject:0x7          "stream ID rejected"; the peer sees its bidirectional stream reset with
#                       code 7 and STOP_SENDING on both (OpenSSL 3.5 sends it with code 0)
#   ignore (default)    a warning for each; the peer sees no answer
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_stream_opener.sh"

opener_extra_files "$TMP"
esc=$'\033'

for role in pipe client; do
  name=$role.accept
  opener_session "$role" "$name" fin --peer-streams accept
  grep -qF "quicc: stream $BIDI_ID: bidi extra \\x1b[2J\\x00 end" "$Q_ERR" ||
    fail "$name: no escaped line of stream $BIDI_ID's bytes on stderr"
  grep -qF "quicc: stream $UNI_ID: uni extra \\x1b[2J\\x00 end" "$Q_ERR" ||
    fail "$name: no escaped line of stream $UNI_ID's bytes on stderr"
  ! grep -q "$esc" "$Q_ERR" || fail "$name: a raw ESC byte reached stderr"
  grep -qF "quicc: stream $BIDI_ID ended: FIN after $(wc -c <"$TMP/extra_bidi") bytes" "$Q_ERR" ||
    fail "$name: no end of stream $BIDI_ID logged"
  grep -qF "quicc: stream $UNI_ID ended: FIN after $(wc -c <"$TMP/extra_uni") bytes" "$Q_ERR" ||
    fail "$name: no end of stream $UNI_ID logged"
  opener_reported "$name" "bidi id=$BIDI_ID read=fin write=ok"

  name=$role.save
  mkdir "$TMP/$name.dir"
  echo "an older, longer file that must be replaced" >"$TMP/$name.dir/stream-$BIDI_ID"
  opener_session "$role" "$name" fin --peer-streams accept --output-dir "$TMP/$name.dir"
  cmp -s "$TMP/$name.dir/stream-$BIDI_ID" "$TMP/extra_bidi" ||
    fail "$name: $name.dir/stream-$BIDI_ID is not the bytes of stream $BIDI_ID"
  cmp -s "$TMP/$name.dir/stream-$UNI_ID" "$TMP/extra_uni" ||
    fail "$name: $name.dir/stream-$UNI_ID is not the bytes of stream $UNI_ID"
  grep -qF "quicc: stream $BIDI_ID: saving to $TMP/$name.dir/stream-$BIDI_ID" "$Q_ERR" ||
    fail "$name: no line saying where stream $BIDI_ID goes"
  ! grep -q "bidi extra" "$Q_ERR" || fail "$name: saved bytes were shown on stderr too"
  opener_reported "$name" "bidi id=$BIDI_ID read=fin write=ok"

  # Streams the peer resets after their bytes: each end logged with the peer's code (what
  # arrived before the reset may be all, some or none of the bytes); the pipe is untouched.
  name=$role.reset
  opener_session "$role" "$name" reset --peer-streams accept
  grep -Eq "^quicc: stream $BIDI_ID ended: reset by the peer \(code 0x9\) after [0-9]+ bytes$" "$Q_ERR" ||
    fail "$name: no end of stream $BIDI_ID by the peer's reset logged: $(grep -F "stream $BIDI_ID" "$Q_ERR" | tr '\n' '|')"
  grep -Eq "^quicc: stream $UNI_ID ended: reset by the peer \(code 0x9\) after [0-9]+ bytes$" "$Q_ERR" ||
    fail "$name: no end of stream $UNI_ID by the peer's reset logged: $(grep -F "stream $UNI_ID" "$Q_ERR" | tr '\n' '|')"
  # (Its write side shows the peer's own reset, code 9.)
  opener_reported "$name" "bidi id=$BIDI_ID read=fin write=stopped:9"

  name=$role.reject
  opener_session "$role" "$name" open --peer-streams reject:0x7
  grep -qF "quicc: stream $BIDI_ID rejected (code 0x7)" "$Q_ERR" || fail "$name: no 'stream $BIDI_ID rejected' line"
  grep -qF "quicc: stream $UNI_ID rejected" "$Q_ERR" || fail "$name: no 'stream $UNI_ID rejected' line"
  opener_reported "$name" "bidi id=$BIDI_ID read=reset:7 write=stopped:0"
  opener_reported "$name" "uni id=$UNI_ID write=stopped:0"

  name=$role.ignore
  opener_session "$role" "$name" open
  grep -qF "quicc: warning: ignoring stream $BIDI_ID: pipe mode uses one stream" "$Q_ERR" ||
    fail "$name: no warning for stream $BIDI_ID"
  grep -qF "quicc: warning: ignoring stream $UNI_ID: pipe mode uses one stream" "$Q_ERR" ||
    fail "$name: no warning for stream $UNI_ID"
  opener_reported "$name" "bidi id=$BIDI_ID read=open write=ok"
  opener_reported "$name" "uni id=$UNI_ID write=ok"
  note "$role: accept, accept --output-dir, a peer's resets, reject:0x7 and ignore as expected"
done
pass

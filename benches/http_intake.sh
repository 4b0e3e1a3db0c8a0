#!/usr/bin/env bash
# Requests a second and latency of POST /messages (one Jira webhook each,
# 64 connections) against the release binary: `benches/http_intake.sh`.
# Needs wrk (Debian: apt-get install wrk) and tmux.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-target/release/switchboard}
[ -x "$bin" ] || cargo build --release --bin switchboard
home=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; tmux -S "$home/tmux/server.sock" kill-server 2>/dev/null; rm -rf "$home"' EXIT
cat >"$home/config.toml" <<'TOML'
[intake.http]
token = "bench-token"
TOML
"$bin" --home "$home" run --headless --listen 127.0.0.1:0 &
pid=$!
for _ in $(seq 100); do
  addr=$(sed -n 's/.*listening on \([0-9.:]*\).*/\1/p' "$home/intake.status" 2>/dev/null || true)
  [ -n "$addr" ] && break
  sleep 0.1
done
wrk -t2 -c64 -d"${DURATION:-20s}" --latency -s benches/http_intake.lua "http://$addr/messages"
echo "messages journaled: $(sqlite3 "$home/journal.db" 'SELECT COUNT(*) FROM messages' 2>/dev/null || echo '?')"

#!/usr/bin/env bash
# Measures the relay's resident memory per idle keep-alive connection.
#
# Starts a release build of qrnm-relay with config/testing.toml (memory store,
# a free loopback port), reads its RSS, then has a separate client process
# (the hold_connections example) open CONNECTIONS keep-alive connections,
# send one GET /healthz on each and hold them idle. The relay's RSS is read
# again once it has settled, because idle HTTP/1.1 connections are parked
# after 1 s and jemalloc returns freed pages within about 10 s. The script
# prints the difference divided by CONNECTIONS, and also the peak right
# after the connections were opened.
#
# Usage: scripts/measure-idle-memory.sh [CONNECTIONS]   (default 10000)
# Exits 1 when the result exceeds LIMIT_BYTES (default 16384).
set -euo pipefail

connections="${1:-10000}"
limit_bytes="${LIMIT_BYTES:-16384}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

cargo build --release --quiet -p qrnm-transport --bin qrnm-relay --example hold_connections
target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
relay_bin="$target_dir/release/qrnm-relay"
client_bin="$target_dir/release/examples/hold_connections"

workdir="$(mktemp -d)"
relay_pid=""
client_pid=""
cleanup() {
    if [[ -n "$client_pid" ]]; then kill "$client_pid" 2>/dev/null || true; fi
    if [[ -n "$relay_pid" ]]; then kill -TERM "$relay_pid" 2>/dev/null || true; wait "$relay_pid" 2>/dev/null || true; fi
    rm -rf "$workdir"
}
trap cleanup EXIT

rss_kib() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

wait_for_line() { # FILE PATTERN SECONDS
    local deadline=$((SECONDS + $3))
    until grep -q "$2" "$1" 2>/dev/null; do
        if ((SECONDS >= deadline)); then
            echo "timed out waiting for '$2' in $1" >&2
            cat "$1" >&2 || true
            return 1
        fi
        sleep 0.1
    done
}

QRNM_LOG_LEVEL=warn ${RELAY_ENV:-} "$relay_bin" --config config/testing.toml --listen 127.0.0.1:0 \
    >"$workdir/relay.out" 2>"$workdir/relay.err" &
relay_pid=$!
wait_for_line "$workdir/relay.out" "listening on" 30
addr="$(sed -n 's/^listening on //p' "$workdir/relay.out")"

sleep 2
before_kib="$(rss_kib "$relay_pid")"

# The client reads standard input until it closes, so a FIFO keeps it holding.
mkfifo "$workdir/hold"
"$client_bin" --addr "$addr" --connections "$connections" --hold-secs 120 ${CLIENT_ARGS:-} \
    <"$workdir/hold" >"$workdir/client.out" &
client_pid=$!
exec 3>"$workdir/hold"
wait_for_line "$workdir/client.out" "holding $connections" 120

peak_kib="$(rss_kib "$relay_pid")"
# Wait until the RSS stops falling: three samples a second apart within 1 %.
after_kib="$peak_kib"
stable=0
for _ in $(seq 1 60); do
    sleep 1
    now_kib="$(rss_kib "$relay_pid")"
    if (( now_kib * 100 >= after_kib * 99 )); then stable=$((stable + 1)); else stable=0; fi
    after_kib="$now_kib"
    if ((stable >= 3)); then break; fi
done
parked="$(curl -s "http://$addr/metrics" | sed -n 's/^qrnm_parked_connections //p' || true)"
open_connections="$(ls "/proc/$relay_pid/fd" | wc -l)"
exec 3>&-
wait "$client_pid" || true
client_pid=""

per_connection=$(( (after_kib - before_kib) * 1024 / connections ))
echo "relay RSS without connections: ${before_kib} KiB"
echo "relay RSS right after opening ${connections} connections: ${peak_kib} KiB ($(( (peak_kib - before_kib) * 1024 / connections )) bytes per connection)"
echo "relay RSS with ${connections} idle keep-alive connections: ${after_kib} KiB (${open_connections} open descriptors, ${parked:-unknown} parked)"
echo "per connection: ${per_connection} bytes (limit ${limit_bytes})"
if (( per_connection > limit_bytes )); then
    echo "FAIL: above the limit" >&2
    exit 1
fi

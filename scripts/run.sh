#!/usr/bin/env bash
# scripts/run.sh - build chatd (and the chat client) if needed and run
# chatd in the foreground.
# Arguments go to chatd; the default is 127.0.0.1 and ::1, port 7777.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh" "$top/build"
make -C "$top/build" -j"$(nproc)" src/chatd src/chat >&2
exec "$top/build/src/chatd" "$@"

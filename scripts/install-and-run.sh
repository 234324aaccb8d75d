#!/usr/bin/env bash
# Install Abhaya into .venv and start the agent in the foreground with the embedded default
# policy.  Extra arguments go to `abhaya run` (e.g. --listen 127.0.0.1:8899 --policy FILE).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! python3 -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    as_root apt-get update
    as_root apt-get install -y python3 python3-venv python3-pip
fi
# pdqhash (PDQ image hashes) is published as source only: pip builds it with g++ against the
# Python headers.
python_headers() {
    python3 -c 'import os, sys, sysconfig
sys.exit(not os.path.exists(os.path.join(sysconfig.get_path("include"), "Python.h")))'
}
if ! command -v g++ >/dev/null || ! python_headers; then
    as_root apt-get update
    as_root apt-get install -y build-essential python3-dev
fi
# Run again while the agent still runs, reinstalling would rewrite the files under it: say so
# and stop instead (exit 75).  A .venv from before this check existed cannot ask; it installs.
if [ -x .venv/bin/python ] && .venv/bin/python -c 'import abhaya.agent.running' 2>/dev/null; then
    status=0
    .venv/bin/python -m abhaya.agent.running "$@" || status=$?
    [ "$status" -ne 75 ] || exit 75
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet .
exec .venv/bin/abhaya run "$@"

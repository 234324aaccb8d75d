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
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet .
exec .venv/bin/abhaya run "$@"

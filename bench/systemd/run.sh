#!/usr/bin/env bash
# `abhaya install` under a real systemd: a Debian 12 container (debootstrap + systemd-nspawn,
# systemd as its PID 1, no network but loopback) that sees this checkout and its Python
# read-only.  Measures install to filtering, the restart after SIGKILL (systemd's own
# Restart=always), the gap alerts, `abhaya doctor`, and uninstall; then installs and uninstalls
# again and compares the container's /etc, /var/lib, /usr/local and /home with the first
# uninstall's.  Run as root, by hand: `sudo bash bench/systemd/run.sh [RUNS]`.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo="$(pwd)"
runs="${1:-10}"
machine=/var/lib/machines/abhaya-bench

[ "$(id -u)" -eq 0 ] || { echo "run as root" >&2; exit 77; }
for tool in systemd-nspawn debootstrap; do
    command -v "$tool" >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y \
        --no-install-recommends systemd-container debootstrap
done
if [ ! -x "$machine/usr/lib/systemd/systemd" ]; then
    debootstrap --variant=minbase \
        --include=systemd,systemd-sysv,dbus,python3,nftables,libnss3-tools,ca-certificates,curl \
        bookworm "$machine" http://deb.debian.org/debian
fi
# The checkout's interpreter, seen at the same path inside, on a path every account may walk
# (the agent runs as its own account).
python_home="$(dirname "$(dirname "$(readlink -f .venv/bin/python)")")"
folder="$machine"
for part in $(dirname "$python_home" | tr '/' ' '); do
    folder="$folder/$part"; mkdir -p "$folder"; chmod o+x "$folder"
done
cp bench/systemd/inside.py "$machine/root/inside.py"

systemd-nspawn -q -b -D "$machine" --register=no --keep-unit --private-network \
    --bind-ro="$python_home" --bind-ro="$repo" --machine=abhaya-bench >/dev/null 2>&1 &
nspawn=$!
trap 'kill "$nspawn" 2>/dev/null || true; wait "$nspawn" 2>/dev/null || true' EXIT
leader=""
for _ in $(seq 100); do
    leader="$(pgrep -P "$nspawn" -f systemd || true)"
    [ -n "$leader" ] && nsenter -t "$leader" -a systemctl is-system-running --wait >/dev/null 2>&1 \
        && break
    sleep 0.2
done
[ -n "$leader" ] || { echo "the container did not boot" >&2; exit 1; }
inside() { nsenter -t "$leader" -a "$@"; }

inside "$repo/.venv/bin/python" /root/inside.py "$repo/.venv/bin/abhaya" "$runs"
inside systemctl poweroff || true

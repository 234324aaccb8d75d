#!/usr/bin/env bash
# Install what the tests need (system packages and a .venv with the test extras), then run the
# linters, the type checker and the whole test suite.  Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/apt-missing.sh

# Chromium drives the end-to-end tests; certutil (libnss3-tools) trusts the agent's CA for it,
# and the installer (and its tests) puts the CA in each account's NSS database with it and in
# the system store with ca-certificates' update-ca-certificates;
# fonts-noto-core renders the Hindi pages; curl is a second real client; gnome-keyring's Secret
# Service (under dbus-run-session) holds the event store's key, as on a desktop; build-essential
# and python3-dev build pdqhash, which is published as source only.  The parent console's Qt
# (PySide6, offscreen platform in the tests) links libEGL, libGL, libxkbcommon, fontconfig, D-Bus
# and GLib (read from `ldd` of QtGui, QtWidgets and the offscreen plugin); the rest comes with them.
# The tray's smoke test needs an X server (xvfb: pystray's xorg backend talks X11) and a tray host
# to dock into (trayer: a small freedesktop system-tray host that runs on a bare X server; Debian
# has no stalonetray in this release); libnotify-bin's notify-send is the tray's no-tray fallback.
# Qt's X11 platform plugin (the tray's PIN dialog, typed into on Xvfb) needs the xcb libraries
# that a desktop has and a bare container lacks.
# The installer's routing tests build network namespaces with veth pairs (iproute2), load the
# rules with nft (nftables), run curl as test accounts with setpriv (util-linux) and compile
# GNOME's proxy setting with dconf (dconf-cli); systemd brings systemd-analyze, which checks the
# installer's units offline (systemd need not be running), and journalctl.
packages=(python3 python3-venv python3-pip chromium libnss3-tools fonts-noto-core curl
          ca-certificates dbus dbus-x11 gnome-keyring libsecret-tools build-essential python3-dev
          libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0
          xvfb xauth trayer libnotify-bin libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4
          libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-xkb1
          libxcb-randr0 libxcb-xinerama0 iproute2 nftables util-linux systemd dconf-cli)
apt_install_missing "${packages[@]}"

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'

.venv/bin/ruff check .
.venv/bin/ruff format --check .
# mypy checks the folders under their installed names (abhaya.filters, abhaya.agent, abhaya.client,
# abhaya.models, abhaya.ui.console).
mkdir -p build/typing && ln -sfn ../.. build/typing/abhaya
MYPYPATH=build/typing .venv/bin/mypy -p abhaya.filters -p abhaya.agent -p abhaya.client -p abhaya.models \
    -p abhaya.ui.console -p abhaya.ui.tray -p abhaya.installer
# The tests run in their own D-Bus session with an unlocked gnome-keyring whose files live in
# a throwaway folder, so the real Secret Service is used and no real keyring is touched.
keyring_home="$(mktemp -d)"
trap 'rm -rf "$keyring_home"' EXIT
dbus-run-session -- bash -c '
    export XDG_DATA_HOME="$1"; shift
    echo -n abhaya-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    exec .venv/bin/python -m pytest "$@"
' bash "$keyring_home" "$@"

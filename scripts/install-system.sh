#!/usr/bin/env bash
# Install Abhaya on this computer as a protected system service: the program into /opt/abhaya
# (a folder the service's own account can read), then `abhaya install`, which makes the
# account, trusts the CA, starts the service and closes every other way to the web.  Extra
# arguments go to `abhaya install` (e.g. --policy family.toml, or --dry-run to see the plan).
# Remove everything again with: sudo /opt/abhaya/bin/abhaya uninstall
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/apt-missing.sh

if [ "$(id -u)" -ne 0 ]; then
    echo "install-system.sh sets up the whole computer: run it with sudo" >&2
    exit 77
fi
# Python for the program; g++ and the headers build pdqhash; the rest is what `abhaya install`
# runs: nft (routing), certutil (the browsers' certificate stores), update-ca-certificates.
packages=(python3 python3-venv python3-pip build-essential python3-dev nftables libnss3-tools
          ca-certificates)
apt_install_missing "${packages[@]}"
[ -x /opt/abhaya/bin/python ] || python3 -m venv /opt/abhaya
/opt/abhaya/bin/python -m pip install --quiet --upgrade pip
/opt/abhaya/bin/python -m pip install --quiet .
exec /opt/abhaya/bin/abhaya install "$@"

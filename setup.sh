#!/usr/bin/env bash
# Install what the demo and the tests need on this (Debian-family) machine, idempotently:
# Python deps (with mkdocs, which builds the docs), docker.io (engine for the test hosts),
# debootstrap (builds their images), and keepalived (its real `keepalived -t` checks
# rendered configs in the unit tests; Debian does not start it without a config).
# Then make sure dockerd answers.
set -euo pipefail
cd "$(dirname "$0")"

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh installs packages and starts dockerd: run it as root (or with sudo)" >&2
  exit 1
fi

missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
[ -x /usr/sbin/keepalived ] || missing+=(keepalived)
command -v ip >/dev/null || missing+=(iproute2)
# the firewall script's tests run nft and iptables in network namespaces of their own
command -v nft >/dev/null || [ -x /usr/sbin/nft ] || missing+=(nftables)
command -v iptables >/dev/null || [ -x /usr/sbin/iptables ] || missing+=(iptables)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

echo "==> pip install -r requirements.txt"
python3 -m pip install -q --root-user-action=ignore -r requirements.txt 2>/dev/null \
  || python3 -m pip install -q --root-user-action=ignore --break-system-packages -r requirements.txt

echo "==> docker engine"
python3 -c "from testhosts.engine import ensure_engine; ensure_engine(); print('    docker engine answers')"

#!/usr/bin/env bash
# OpenFlow 1.3 conformance: decode every message in $2/openflow13/packets with Tusk, compare the
# fields with os-ken's decode (expected/*.json), and check the byte-for-byte re-encoding.
# Usage: check-openflow13.sh TUSK_BIN CONFORMANCE_DIR
set -uo pipefail
here=$(dirname "$0")
exec python3 "$here/check-openflow13.py" "$1" "$2"

#!/usr/bin/env bash
# sFlow: Tusk's decode of real captures against tcpdump's own decode of them.
exec python3 "$(dirname "$0")/check-sflow.py" "$1" "$2"

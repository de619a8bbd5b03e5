#!/usr/bin/env bash
# See test-controller-leaf-spine-tcp.sh: the same checks with --reconnect.
exec bash "$(dirname "$0")/test-controller-leaf-spine-tcp.sh" --reconnect

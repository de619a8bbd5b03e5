#!/usr/bin/env bash
# See test-controller-leaf-spine-tcp.sh: the same checks with --fat-tree.
exec bash "$(dirname "$0")/test-controller-leaf-spine-tcp.sh" --fat-tree

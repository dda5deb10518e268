#!/usr/bin/env bash
# The az root filesystem (scripts/rootfs.sh az): kept for the callers that
# name it. Prints its path, building it first when the cache has none.
exec "$(dirname "$0")/rootfs.sh" az "$@"

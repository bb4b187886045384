#!/bin/sh
# `redis-server [options]` runs as the user redis, listening on every address with protected mode
# off (the container network is the boundary, as with the official image); anything else runs as is.
set -eu
if [ "${1:-}" = redis-server ]; then
    shift
    if [ "$(id -u)" = 0 ]; then
        chown -R redis:redis /data
        exec setpriv --reuid=redis --regid=redis --init-groups \
            redis-server --bind '* -::*' --protected-mode no "$@"
    fi
    exec redis-server --bind '* -::*' --protected-mode no "$@"
fi
exec "$@"

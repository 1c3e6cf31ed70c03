#!/bin/bash
# SPDX-License-Identifier: MIT
# The container's health check: exit 0 when this node answers GET /readyz
# with 200. The address is PROVCAT_HEALTHCHECK_ADDR, else PROVCAT_CLIENT,
# else the `client` line of the file PROVCAT_CONFIG names; 0.0.0.0 (every
# interface) is asked on 127.0.0.1. bash's /dev/tcp: no curl in the image.
addr=${PROVCAT_HEALTHCHECK_ADDR:-${PROVCAT_CLIENT:-}}
if [ -z "$addr" ] && [ -n "${PROVCAT_CONFIG:-}" ]; then
    addr=$(sed -n 's/^[[:space:]]*client[[:space:]]*=[[:space:]]*\([^[:space:]]*\).*/\1/p' \
        "$PROVCAT_CONFIG" | tail -1)
fi
if [ -z "$addr" ]; then
    echo "provcat-healthcheck: no address (set PROVCAT_CLIENT)" >&2
    exit 1
fi
host=${addr%:*}
port=${addr##*:}
[ "$host" = 0.0.0.0 ] && host=127.0.0.1
exec 3<>"/dev/tcp/$host/$port" || exit 1
printf 'GET /readyz HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$addr" >&3
IFS=' ' read -r -t 3 _ code _ <&3 || exit 1
[ "$code" = 200 ] || { echo "provcat-healthcheck: /readyz answered $code" >&2; exit 1; }

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# docs/openapi.yaml in `make test`: valid OpenAPI 3.1 (the official schema,
# by @seriousme/openapi-schema-validator, pinned with every dependency in
# tests/openapi/package-lock.json and installed by `npm ci` into
# build/openapi/ when the lock file changes), and the same routes as the
# router's table in node/api/table.c (tests/openapi/routes.mjs).
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=build/openapi

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
    echo "openapi: installing nodejs and npm (Debian)"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq \
        --no-install-recommends nodejs npm >/dev/null
fi
stamp="$dir/.lock-$(cat tests/openapi/package.json tests/openapi/package-lock.json |
    sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    cp tests/openapi/package.json tests/openapi/package-lock.json "$dir/"
    (cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts \
        --loglevel=error >/dev/null)
    touch "$stamp"
fi
node "$dir/node_modules/@seriousme/openapi-schema-validator/bin/validate-api-cli.js" \
    docs/openapi.yaml >"$dir/validate.log" 2>&1 || {
    cat "$dir/validate.log"
    echo "openapi: docs/openapi.yaml is not valid OpenAPI"
    exit 1
}
NODE_PATH="$PWD/$dir/node_modules" node tests/openapi/routes.mjs docs/openapi.yaml node/api/table.c

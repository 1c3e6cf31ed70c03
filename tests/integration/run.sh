#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Integration tests: real provcat-node processes on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec python3 tests/integration/run.py "$@"

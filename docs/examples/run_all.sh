#!/usr/bin/env bash
# Run every example in docs/examples against the in-memory Arakoon; CI calls this
# (.ci/run) with the virtualenv's python first on PATH. Each example is a complete
# program that exits 0, started from the repository root.
set -euo pipefail

cd "$(dirname "$0")/../.."

run() {
    printf '\n---- %s ----\n' "$*"
    timeout 120 python "$@"
}

run docs/examples/quickstart_cluster.py
run docs/examples/quickstart_inlinecallbacks.py
run docs/examples/quickstart_blocking.py
run docs/examples/protocol_single_node.py
run docs/examples/asyncio_example.py
run docs/examples/asyncio_example.py --asyncio-run

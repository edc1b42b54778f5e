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

# Test-suite examples: pytest with txarakoon's plugin (and pytest-twisted), and
# trial with the mixins. trial's scratch directory stays out of the checkout.
TRIAL_TEMP="$(mktemp -d "${TMPDIR:-/tmp}/txarakoon-trial.XXXXXX")"
trap 'rm -rf "$TRIAL_TEMP"' EXIT
run -m pytest -p no:cacheprovider docs/examples/test_with_pytest.py
run -m pytest -p no:cacheprovider docs/examples/test_in_another_process.py
run -m pytest -p no:cacheprovider docs/examples/test_twistd_plugin.py
run -m twisted.trial --temp-directory "$TRIAL_TEMP/_trial_temp" docs/examples/test_with_trial.py

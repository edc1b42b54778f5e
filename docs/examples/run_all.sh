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

# pytest on the given modules as where pytest-twisted is not installed: a
# module of that name that fails to import shadows it, and its plugin is off.
without_pytest_twisted() {
    local shadow="$SCRATCH/no-pytest-twisted"
    mkdir -p "$shadow"
    echo 'raise ModuleNotFoundError("No module named pytest_twisted", name="pytest_twisted")' \
        >"$shadow/pytest_twisted.py"
    PYTHONPATH="$shadow${PYTHONPATH:+:$PYTHONPATH}" run -m pytest -p no:cacheprovider -p no:twisted "$@"
}

run docs/examples/quickstart_cluster.py
run docs/examples/quickstart_inlinecallbacks.py
run docs/examples/quickstart_blocking.py
run docs/examples/protocol_single_node.py
run docs/examples/recipes_counter.py
run docs/examples/asyncio_example.py
run docs/examples/asyncio_example.py --asyncio-run

# Test-suite examples: pytest with txarakoon's plugin (and pytest-twisted), and
# trial with the mixins. Their scratch files stay out of the checkout.
SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/txarakoon-examples.XXXXXX")"
trap 'rm -rf "$SCRATCH"' EXIT
run -m pytest -p no:cacheprovider docs/examples/test_with_pytest.py
run -m pytest -p no:cacheprovider docs/examples/test_with_pytest_twisted.py
without_pytest_twisted docs/examples/test_with_pytest.py docs/examples/test_with_pytest_twisted.py
run -m pytest -p no:cacheprovider docs/examples/test_in_another_process.py
run -m pytest -p no:cacheprovider docs/examples/test_twistd_plugin.py
run -m twisted.trial --temp-directory "$SCRATCH/_trial_temp" docs/examples/test_with_trial.py

"""What importing txarakoon costs, and what it offers at the top level."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

import txarakoon

#: The sans-IO core (DESIGN.md rule 1): no I/O, no Twisted. Sans-IO modules
#: added later (the cluster client's retry policy) join this list.
SANS_IO = [
    "txarakoon.codec",
    "txarakoon.codes",
    "txarakoon.consistency",
    "txarakoon.errors",
    "txarakoon.master_claims",
    "txarakoon.messages",
    "txarakoon.reader",
    "txarakoon.retry",
    "txarakoon.sequence",
    "txarakoon.sessions",
    "txarakoon.stall_rule",
]

FORBIDDEN = ("twisted", "zope", "socket", "_socket", "ssl", "asyncio", "select")

#: Importable from the top level, and what each is.
TOP_LEVEL = {
    "ArakoonClient": "txarakoon.cluster",
    "ArakoonProtocol": "txarakoon.protocol",
    "ClusterConfig": "txarakoon.config",
    "SocketClient": "txarakoon.blocking",
    "AbstractClient": "txarakoon.client",
    "ClientMixin": "txarakoon.client",
    "connect": "txarakoon.protocol",
}


def _loaded_after(statement: str) -> list[str]:
    """The modules a fresh interpreter holds after running ``statement``."""
    script = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    output = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True
    ).stdout
    modules: list[str] = json.loads(output)
    return modules


def _forbidden(modules: list[str]) -> list[str]:
    return [name for name in modules if name.split(".")[0] in FORBIDDEN]


@pytest.mark.parametrize("module", SANS_IO)
def test_the_sans_io_core_loads_no_io_and_no_twisted(module: str) -> None:
    assert _forbidden(_loaded_after(f"import {module}")) == []


def test_importing_the_package_loads_no_io_and_no_twisted() -> None:
    assert _forbidden(_loaded_after("import txarakoon")) == []


def test_the_clients_are_loaded_on_first_use() -> None:
    modules = _loaded_after("import txarakoon\ntxarakoon.ArakoonClient")
    assert "txarakoon.cluster" in modules and "twisted" in modules


@pytest.mark.parametrize(("name", "module"), sorted(TOP_LEVEL.items()))
def test_the_main_names_are_importable_from_the_top_level(name: str, module: str) -> None:
    value = getattr(txarakoon, name)
    assert value is getattr(importlib.import_module(module), name)
    assert name in txarakoon.__all__
    assert name in dir(txarakoon)


def test_an_unknown_top_level_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        txarakoon.Nope  # noqa: B018


def test_the_blocking_client_logs_with_the_standard_library() -> None:
    modules = _loaded_after("from txarakoon import SocketClient")
    assert "logging" in modules
    assert "twisted" not in modules

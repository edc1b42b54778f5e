"""ArakoonOptions: the cluster a twistd plugin's options name."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest
from twisted.python import usage

from txarakoon.config import ClusterConfig, NodeConfig
from txarakoon.environment import NODES_VARIABLE
from txarakoon.service import ArakoonOptions

SPEC = "arakoon@n0=127.0.0.1:4000,n1=127.0.0.1:4001"


class Options(ArakoonOptions):
    """What a plugin writes: its own options beside the cluster's."""

    optParameters: ClassVar[list[list[Any]]] = [["port", "p", 8080, "the port", int]]


def parsed(*argv: str, environ: dict[str, str] | None = None) -> Options:
    options = Options()
    options.environ = {} if environ is None else environ
    options.parseOptions(list(argv))
    return options


def test_the_nodes_option_names_the_cluster_beside_the_plugins_own_options() -> None:
    options = parsed("--arakoon-nodes", SPEC, "--port", "9000")
    assert options.cluster_config.nodes["n1"] == NodeConfig("n1", ("127.0.0.1",), 4001)
    assert options["port"] == 9000


def test_the_environment_names_the_cluster_when_no_option_does() -> None:
    options = parsed(environ={NODES_VARIABLE: SPEC})
    assert options.cluster_config.node_names == ("n0", "n1")


def test_the_config_option_reads_the_ini(tmp_path: Path) -> None:
    ini = tmp_path / "arakoon.ini"
    ini.write_text(ClusterConfig.from_spec(SPEC).to_ini())
    assert parsed("--arakoon-config", str(ini)).cluster_config.node_names == ("n0", "n1")


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        ((), "no cluster: give --arakoon-config FILE.ini or --arakoon-nodes"),
        (("--arakoon-nodes", "nonsense"), "--arakoon-nodes: "),
        (("--arakoon-config", "/nonexistent.ini"), "/nonexistent.ini: No such file"),
        (
            ("--arakoon-config", "a.ini", "--arakoon-nodes", SPEC),
            "give --arakoon-config or --arakoon-nodes, not both",
        ),
        (
            ("--arakoon-nodes", SPEC, "--arakoon-client-cert", "c.pem"),
            "--arakoon-client-cert and --arakoon-client-key go with --arakoon-config",
        ),
    ],
)
def test_a_mistake_is_a_usage_error_of_one_line(argv: tuple[str, ...], said: str) -> None:
    with pytest.raises(usage.UsageError) as raised:
        parsed(*argv)
    assert said in str(raised.value)
    assert "\n" not in str(raised.value)

"""A user's mistake gets one line on standard error and its documented exit
code, never a traceback: 2 for the command line, 8 for the configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import CLI, Result
from txarakoon.config import ClusterConfig, TLSConfig
from txarakoon.testing.trial import memory_config


def one_line(result: Result) -> str:
    assert result.err.startswith("txarakoon: "), result.err
    assert result.err.count("\n") == 1, result.err
    return result.err


@pytest.mark.parametrize(
    "argv",
    [
        ["frobnicate"],
        ["get"],
        ["get", "k", "--bogus"],
        ["get", "k", "--timeout", "0"],
        ["get", "k", "--timeout", "-1"],
        ["get", "k", "--timeout", "nan"],
        ["get", "k", "--timeout", "soon"],
        ["get", "k", "--dirty", "--at-least", "3"],
        ["get", "k", "--at-least", "-1"],
        ["get", "--hex-in", "zz"],
        ["range", "--max", "99999999999"],
        ["statistics", "--node", "n9"],
        ["copy-db-to-head", "--node", "n1", "--keep", "0"],
        ["collapse-tlogs", "--node", "n1", "--keep", "0"],
        ["serve", "--count", "0"],
        ["serve", "--port", "70000"],
    ],
    ids=" ".join,
)
def test_a_command_line_mistake_gets_one_line_and_exit_code_2(cli: CLI, argv: list[str]) -> None:
    result = cli(*argv)
    assert result.code == 2, result.err
    one_line(result)


@pytest.mark.parametrize(
    "argv",
    [
        ["--nodes", "nonsense"],
        ["--config", "/nonexistent/cluster.ini"],
        ["--config", "/nonexistent/cluster.ini", "--nodes", "arakoon@n0=in-memory:1"],
        ["--tls-ca", "/nonexistent/ca.pem"],
        ["--tls-cert", "client.pem", "--tls-key", "client.key"],
        ["--tls-ca", "ca.pem", "--tls-cert", "client.pem"],
        ["--no-tls", "--tls-ca", "ca.pem"],
    ],
    ids=" ".join,
)
def test_a_configuration_mistake_gets_one_line_and_exit_code_8(cli: CLI, argv: list[str]) -> None:
    given = argv if "--nodes" in argv or "--config" in argv else [*argv, "--nodes", cli.spec]
    result = cli.bare("get", "k", *given)
    assert result.code == 8, result.err
    assert one_line(result).startswith("txarakoon: bad configuration: ")


def test_a_timeout_must_be_a_positive_number_of_seconds(cli: CLI) -> None:
    assert one_line(cli("get", "k", "--timeout", "0")) == (
        "txarakoon: argument --timeout: must be a positive number of seconds, not '0' "
        "(see txarakoon get --help)\n"
    )


def test_a_tls_certificate_without_a_ca_is_refused_not_ignored(cli: CLI) -> None:
    result = cli("get", "k", "--tls-cert", "client.pem", "--tls-key", "client.key")
    assert one_line(result) == (
        "txarakoon: bad configuration: --tls-cert needs a CA certificate: "
        "give --tls-ca (or tls_ca_cert in the .ini)\n"
    )


def test_a_missing_ca_file_is_named(cli: CLI) -> None:
    result = cli("get", "k", "--tls-ca", "/nonexistent/ca.pem")
    assert "/nonexistent/ca.pem" in one_line(result)


def test_no_tls_turns_off_the_tls_of_the_ini(cli: CLI, tmp_path: Path) -> None:
    config = memory_config(cli.cluster)
    ini = tmp_path / "cluster.ini"
    ini.write_text(
        ClusterConfig(config.cluster_id, config.nodes, TLSConfig("/nonexistent")).to_ini()
    )
    assert cli.bare("set", "k", "v", "--config", str(ini)).code == 8
    result = cli.bare("set", "k", "v", "--config", str(ini), "--no-tls")
    assert result.code == 0, result.err


def test_a_file_that_is_not_an_ini_is_a_configuration_error(cli: CLI, tmp_path: Path) -> None:
    ini = tmp_path / "cluster.ini"
    ini.write_bytes(b"\xff not an ini\n")
    result = cli.bare("get", "k", "--config", str(ini))
    assert result.code == 8
    assert one_line(result).startswith(f"txarakoon: bad configuration: {ini}: ")


def test_a_text_file_without_sections_is_a_configuration_error(cli: CLI, tmp_path: Path) -> None:
    ini = tmp_path / "cluster.ini"
    ini.write_text("garbage\n")
    result = cli.bare("get", "k", "--config", str(ini))
    assert result.code == 8
    assert one_line(result).startswith(f"txarakoon: bad configuration: {ini}: ")


def test_a_connection_failure_is_told_in_one_sentence_naming_the_request_once() -> None:
    import io

    from txarakoon import errors
    from txarakoon.cli.exits import describe
    from txarakoon.cli.output import Output

    lost = errors.ConnectionLost("reset", "set(key=b'k', value=b'v')")
    text = describe(errors.OutcomeUnknown(lost, "set(key=b'k', value=b'v')"), Output(io.StringIO()))
    assert text.count("set(key=b'k', value=b'v')") == 1
    assert text.count("may or may not have been applied") == 1


def _ini_requiring_a_client_certificate(cli: CLI, tmp_path: Path) -> str:
    config = memory_config(cli.cluster)
    ini = tmp_path / "cluster.ini"
    text = ClusterConfig(config.cluster_id, config.nodes, TLSConfig("/nonexistent")).to_ini()
    ini.write_text(
        text.replace("tls_service = true", "tls_service = true\ntls_service_validate_peer = true")
    )
    return str(ini)


def test_an_ini_whose_nodes_require_a_client_certificate_asks_for_one(
    cli: CLI, tmp_path: Path
) -> None:
    result = cli.bare("get", "k", "--config", _ini_requiring_a_client_certificate(cli, tmp_path))
    assert result.code == 8
    assert "require a client certificate" in one_line(result)


def test_the_client_certificate_options_complete_the_ini(cli: CLI, tmp_path: Path) -> None:
    ini = _ini_requiring_a_client_certificate(cli, tmp_path)
    given = ["--tls-cert", "/nonexistent/c.pem", "--tls-key", "/nonexistent/c.key"]
    result = cli.bare("get", "k", "--config", ini, *given)
    # Past the configuration: the files themselves are what is missing now.
    assert result.code == 8
    assert "/nonexistent" in one_line(result)
    assert "require a client certificate" not in result.err


def test_an_unknown_command_is_one_short_line_with_the_closest_name(cli: CLI) -> None:
    result = cli.bare("gett", "k")
    assert result.code == 2
    assert one_line(result) == (
        "txarakoon: unknown command 'gett': did you mean get? (see txarakoon --help)\n"
    )


@pytest.mark.parametrize("argv", [["--nodes", "3", "serve"], ["--json", "demo"]], ids=" ".join)
def test_a_cluster_option_before_a_command_that_runs_its_own_cluster_is_refused(
    cli: CLI, argv: list[str]
) -> None:
    result = cli.bare(*argv)
    assert result.code == 2
    assert f"{argv[0]} is for the commands that talk to a cluster" in one_line(result)


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["copy-db-to-head", "--node", "n0", "--keep", "0"], "--keep must be at least 1, not 0"),
        (["collapse-tlogs", "--node", "n0", "--keep", "0"], "--keep must be at least 1, not 0"),
        (["range", "--max", str(2**40)], "--max: 1099511627776 is out of range for int32"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else "",
)
def test_a_value_the_library_refuses_is_told_by_the_option_the_user_typed(
    cli: CLI, argv: list[str], said: str
) -> None:
    result = cli.bare(*argv, "--nodes", cli.spec)
    assert result.code == 2
    assert one_line(result).startswith(f"txarakoon: {said}")

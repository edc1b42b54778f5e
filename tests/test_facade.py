"""The facade's methods as introspection sees them (txarakoon.facade): written
once, each command is a plain function per flavour, with the method's name,
docstring and a signature returning that flavour's result, in pydoc and in
Sphinx autodoc; and the classes that pick a flavour get those functions."""

from __future__ import annotations

import html
import inspect
import pydoc
import re
import subprocess
import sys
import textwrap
import traceback
from pathlib import Path
from types import FunctionType
from typing import Any

import pytest

from txarakoon import messages
from txarakoon.admin import AdminMixin
from txarakoon.blocking import SocketClient
from txarakoon.client import Async, ClientMixin, Sync
from txarakoon.cluster import ArakoonClient, ClientView, NodeClient, ReadYourWrites
from txarakoon.consistency import Consistent, NoGuarantees
from txarakoon.facade import Facade, M, command, flavour_of
from txarakoon.messages import Command, Message
from txarakoon.protocol import ArakoonProtocol

CLIENT_COMMANDS = [name for name in vars(ClientMixin) if not name.startswith("_")]
ADMIN_COMMANDS = [name for name in vars(AdminMixin) if not name.startswith("_")]
COMMANDS = CLIENT_COMMANDS + ADMIN_COMMANDS

#: Every client class, its flavour, and the mixins it has.
CLIENTS: list[tuple[type, type, list[str]]] = [
    (ArakoonProtocol, Async, COMMANDS),
    (SocketClient, Sync, COMMANDS),
    (NodeClient, Async, COMMANDS),
    (ArakoonClient, Async, CLIENT_COMMANDS),
    (ClientView, Async, CLIENT_COMMANDS),
    (ReadYourWrites, Async, CLIENT_COMMANDS),
]

GET_PARAMETERS = (
    "key: Key, allow_dirty: AllowDirty = NOT_GIVEN, *, consistency: Consistency | None = None"
)


def _mixin_of(name: str) -> type:
    return ClientMixin if name in CLIENT_COMMANDS else AdminMixin


class Recorder(ClientMixin[Sync], AdminMixin[Sync]):
    """A client whose ``_process`` hands back the message it was given."""

    def _process(self, message: Message[Any]) -> Message[Any]:
        return message


def test_the_mixins_hold_exactly_the_commands() -> None:
    assert CLIENT_COMMANDS == [
        "hello",
        "who_master",
        "exists",
        "get",
        "multi_get",
        "multi_get_option",
        "range",
        "range_entries",
        "rev_range_entries",
        "prefix",
        "assert_",
        "assert_exists",
        "set",
        "delete",
        "test_and_set",
        "replace",
        "confirm",
        "delete_prefix",
        "sequence",
        "user_function",
        "nop",
        "expect_progress_possible",
        "get_key_count",
        "statistics",
        "version",
        "get_current_state",
        "get_txid",
    ]
    assert ADMIN_COMMANDS == [
        "optimize_db",
        "defrag_db",
        "drop_master",
        "flush_store",
        "copy_db_to_head",
        "collapse_tlogs",
    ]


@pytest.mark.parametrize(
    ("client", "flavour", "names"), CLIENTS, ids=[client.__name__ for client, _, _ in CLIENTS]
)
def test_read_on_a_client_class_each_command_is_a_plain_function_of_its_flavour(
    client: type, flavour: type, names: list[str]
) -> None:
    for name in names:
        method = getattr(client, name)
        assert type(method) is FunctionType, name
        assert flavour_of(method) is flavour, name
        assert method.__name__ == name
        assert method.__qualname__ == f"{_mixin_of(name).__name__}.{name}"
        assert method.__module__ == _mixin_of(name).__module__


@pytest.mark.parametrize("name", COMMANDS)
def test_both_flavours_have_the_mixins_parameters_and_docstring(name: str) -> None:
    generic = getattr(_mixin_of(name), name)
    on_twisted, blocking = getattr(ArakoonProtocol, name), getattr(SocketClient, name)
    parameters = inspect.signature(generic).parameters
    assert next(iter(parameters)) == "self"
    assert inspect.signature(on_twisted).parameters == parameters
    assert inspect.signature(blocking).parameters == parameters
    assert on_twisted.__doc__ == blocking.__doc__
    assert on_twisted.__doc__ is not None
    assert generic.__doc__.endswith(inspect.cleandoc(blocking.__doc__))


def _returns(client: type, name: str) -> str:
    return str(inspect.signature(getattr(client, name)).return_annotation)


@pytest.mark.parametrize("name", COMMANDS)
def test_the_twisted_flavour_returns_a_deferred_of_the_blocking_flavours_result(
    name: str,
) -> None:
    assert _returns(ArakoonProtocol, name) == f"Deferred[{_returns(SocketClient, name)}]"


def test_the_blocking_flavour_returns_the_builders_result_type() -> None:
    sync = {name: _returns(SocketClient, name) for name in COMMANDS}
    assert sync["get"] == "bytes"
    assert sync["who_master"] == "bytes | None"
    assert sync["range_entries"] == "Entries"
    assert sync["multi_get_option"] == "list[bytes | None]"
    assert sync["set"] == "None"
    assert sync["statistics"] == "Statistics"
    assert sync["get_txid"] == "Consistency"
    assert sync["collapse_tlogs"] == "int"


def test_the_mixins_docstring_starts_with_both_flavours_signatures() -> None:
    lines = ClientMixin.get.__doc__.splitlines()
    assert lines[:3] == [
        f"get({GET_PARAMETERS}) -> Deferred[bytes]",
        f"get({GET_PARAMETERS}) -> bytes",
        "",
    ]


def test_help_shows_a_command_with_its_flavours_result_and_docstring() -> None:
    twisted_help = pydoc.render_doc(ArakoonProtocol.get, renderer=pydoc.plaintext)
    blocking_help = pydoc.render_doc(SocketClient.get, renderer=pydoc.plaintext)
    assert f"get(self, {GET_PARAMETERS}) -> Deferred[bytes]\n" in twisted_help
    assert f"get(self, {GET_PARAMETERS}) -> bytes\n" in blocking_help
    assert "The value bound to ``key``" in blocking_help


def test_help_on_a_client_lists_the_commands_among_its_methods() -> None:
    text = pydoc.render_doc(SocketClient, renderer=pydoc.plaintext)
    # pydoc rules a line of dashes between the sections of a class.
    methods = text.split("Methods defined here:")[1].split("-" * 20)[0]
    assert f" get(self, {GET_PARAMETERS}) -> bytes\n" in methods
    assert " collapse_tlogs(self, count: int, progress: Progress | None = None) -> int\n" in methods


def test_sphinx_autodoc_documents_the_commands_as_methods_with_real_signatures(
    tmp_path: Path,
) -> None:
    pytest.importorskip("sphinx")
    (tmp_path / "conf.py").write_text('extensions = ["sphinx.ext.autodoc"]\n')
    (tmp_path / "index.rst").write_text(
        textwrap.dedent(
            """\
            API
            ===

            .. autoclass:: txarakoon.client.ClientMixin
               :members: get

            .. autoclass:: txarakoon.protocol.ArakoonProtocol
               :members: get, collapse_tlogs

            .. autoclass:: txarakoon.blocking.SocketClient
               :members: get
            """
        )
    )
    out = tmp_path / "html"
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-q", "-W", "-b", "html", str(tmp_path), str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    page = (out / "index.html").read_text()

    def signatures(target: str) -> list[str]:
        """The signatures autodoc gave ``target``, documented as a method."""
        start = page.rindex('<dl class="py method">', 0, page.index(f'id="{target}"'))
        entry = page[start : page.index("<dd>", start)]
        return [
            " ".join(html.unescape(re.sub(r"<[^>]+>", "", signature)).split()).rstrip("¶")
            for signature in re.findall(r"<dt.*?</dt>", entry, re.S)
        ]

    get = f"get({GET_PARAMETERS})"
    assert signatures("txarakoon.client.ClientMixin.get") == [
        f"{get} → Deferred[bytes]",
        f"{get} → bytes",
    ]
    assert signatures("txarakoon.protocol.ArakoonProtocol.get") == [f"{get} → Deferred[bytes]"]
    assert signatures("txarakoon.protocol.ArakoonProtocol.collapse_tlogs") == [
        "collapse_tlogs(count: int, progress: Progress | None = None) → Deferred[int]"
    ]
    # Sphinx spells out the aliases it can evaluate (here Key: the blocking
    # flavour's annotations all exist at run time, Deferred does not).
    [blocking] = signatures("txarakoon.blocking.SocketClient.get")
    assert blocking.startswith("get(key: ")
    assert blocking.endswith(", *, consistency: Consistency | None = None) → bytes")


def test_a_class_that_picks_a_flavour_gets_methods_that_send_the_builders_message() -> None:
    recorder = Recorder()
    assert recorder.get(b"k", consistency=NoGuarantees) == messages.GET(NoGuarantees, b"k")
    assert recorder.range(b"a", True, None, False) == messages.RANGE(
        Consistent, b"a", True, None, False, -1
    )
    assert recorder.copy_db_to_head(2) == messages.COPY_DB_TO_HEAD(2)
    assert flavour_of(vars(Recorder)["get"]) is Sync


def test_a_method_is_looked_up_like_a_hand_written_one_not_made_per_call() -> None:
    recorder = Recorder()
    assert inspect.getattr_static(recorder, "get") is vars(Recorder)["get"]
    assert recorder.get.__func__ is recorder.get.__func__ is vars(Recorder)["get"]
    assert vars(Recorder)["get"] is vars(SocketClient)["get"]


def test_an_override_in_the_class_or_a_base_before_the_mixin_stays() -> None:
    class Base:
        def get(self, key: bytes) -> str:
            return "from Base"

    class Overriding(Base, ClientMixin[Sync]):
        def set(self, key: bytes, value: bytes) -> str:
            return "from Overriding"

    assert Overriding().get(b"k") == "from Base"
    assert Overriding().set(b"k", b"v") == "from Overriding"
    assert flavour_of(vars(Overriding)["delete"]) is Sync


def test_a_subclass_of_a_client_inherits_its_methods_without_new_copies() -> None:
    class Sub(ArakoonProtocol):
        pass

    assert "get" not in vars(Sub)
    assert Sub.get is ArakoonProtocol.get


def test_a_mixin_added_later_takes_the_flavour_the_class_already_has() -> None:
    class Base(ClientMixin[Sync]):
        pass

    class WithAdmin(Base, AdminMixin):  # type: ignore[type-arg]
        pass

    assert flavour_of(vars(WithAdmin)["optimize_db"]) is Sync


def test_a_class_mixing_both_flavours_is_refused() -> None:
    with pytest.raises(TypeError, match="mixes the Async and Sync flavours"):

        class Mixed(ClientMixin[Async], AdminMixin[Sync]):
            pass


def test_a_generic_mixin_keeps_the_generic_methods() -> None:
    class MoreCommands(ClientMixin[M]):
        pass

    assert "get" not in vars(MoreCommands)
    assert flavour_of(MoreCommands.get) is None


def test_a_mixin_of_ones_own_gets_both_flavours() -> None:
    class Touching(Facade[M]):
        @command
        def touch(key: bytes, value: bytes = b"", *, confirm: bool = False) -> Message[None]:
            """Bind ``key`` to ``value``; with ``confirm``, only if it differs."""
            return (messages.CONFIRM if confirm else messages.SET)(key, value)

    class Toucher(Touching[Sync]):
        def _process(self, message: Message[Any]) -> Message[Any]:
            return message

    class DeferringToucher(Touching[Async]):
        pass

    parameters = "(self, key: bytes, value: bytes = b'', *, confirm: bool = False)"
    assert Toucher().touch(b"k", confirm=True) == messages.CONFIRM(b"k", b"")
    assert str(inspect.signature(Toucher.touch)) == f"{parameters} -> None"
    assert str(inspect.signature(DeferringToucher.touch)) == f"{parameters} -> Deferred[None]"


def test_a_builder_that_does_not_return_a_message_is_refused() -> None:
    def ping() -> bytes:
        return b""

    with pytest.raises(TypeError, match=r"must return Message\[...\]"):
        command(ping)  # type: ignore[arg-type]


def test_a_builder_with_star_args_is_refused() -> None:
    def ping(*times: int) -> Message[None]:
        return messages.NOP()

    with pytest.raises(TypeError, match="variadic positional"):
        command(ping)


def test_a_traceback_through_a_method_shows_its_line() -> None:
    with pytest.raises(TypeError) as raised:
        Recorder().get(42)  # type: ignore[arg-type]
    lines = [frame.line for frame in traceback.extract_tb(raised.tb)]
    assert "return self._process(_build(key, allow_dirty, consistency))" in lines


def test_every_client_says_whether_it_is_connected() -> None:
    # AbstractClient documents `connected` rather than declaring it (it would
    # clash with Twisted's Protocol.connected): each client must provide it.
    from twisted.internet.testing import StringTransport

    from txarakoon.blocking import SocketClient
    from txarakoon.protocol import ArakoonProtocol

    protocol = ArakoonProtocol(b"arakoon")
    assert protocol.connected is False
    protocol.makeConnection(StringTransport())
    assert protocol.connected is True
    assert SocketClient(("127.0.0.1", 4000), b"arakoon").connected is False


def test_a_command_sent_as_declared_shows_its_declarations_result_and_names_itself() -> None:
    class Pinging(Facade[M]):
        ping = command.sends(messages.NOP, "Prove the master can write.")

    class Pinger(Pinging[Sync]):
        def _process(self, message: Message[Any]) -> Message[Any]:
            return message

    assert Pinger().ping() == messages.NOP()
    assert str(inspect.signature(Pinger.ping)) == "(self) -> None"
    assert Pinger.ping.__doc__ == "Prove the master can write."
    assert (Pinger.ping.__name__, Pinger.ping.__module__) == ("ping", __name__)


def _key_and_value(key: bytes, value: bytes = b"") -> tuple[bytes, bytes]:
    return key, value


def test_a_command_sent_through_a_function_takes_its_parameters_and_defaults() -> None:
    class Binding(Facade[M]):
        bind = command.sends(messages.SET, "Bind a key.", _key_and_value)
        confirm = command.sends(messages.CONFIRM, "Bind a key once.", _key_and_value)

    class Binder(Binding[Sync]):
        def _process(self, message: Message[Any]) -> Message[Any]:
            return message

    assert Binder().bind(b"k") == messages.SET(b"k", b"")
    assert Binder().confirm(b"k", value=b"v") == messages.CONFIRM(b"k", b"v")
    assert str(inspect.signature(Binder.bind)) == "(self, key: bytes, value: bytes = b'') -> None"
    assert Binder.confirm.__doc__ == "Bind a key once."


def test_a_declaration_with_arguments_needs_a_function_to_give_them() -> None:
    with pytest.raises(TypeError, match="get takes arguments: give them through"):
        command.sends(messages.GET, "The value.")


def test_a_declaration_without_its_result_declared_cannot_be_sent_as_declared() -> None:
    undeclared = Command("nop", 0x41, (), messages.NOP.result)
    with pytest.raises(TypeError, match=r"declared in txarakoon.messages as Final\[Command"):
        command.sends(undeclared, "Prove the master can write.")

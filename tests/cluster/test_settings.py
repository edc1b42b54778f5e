"""The cluster client's settings are refused when it is built, before it
connects anywhere (the same rules as the blocking flavour's)."""

from __future__ import annotations

from typing import Any, TypeVar

import pytest
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock

from txarakoon.cluster import ArakoonClient
from txarakoon.messages import Message
from txarakoon.retry import CallOptions

from ..helpers.settings import BAD_SETTINGS, CONFIG

T = TypeVar("T")


@pytest.mark.parametrize(("settings", "error", "words"), BAD_SETTINGS)
def test_a_bad_setting_is_refused_when_the_client_is_built(
    settings: dict[str, Any], error: type[Exception], words: str
) -> None:
    clock = Clock()
    with pytest.raises(error, match=words):
        ArakoonClient(CONFIG, clock, **settings)
    assert clock.getDelayedCalls() == []


def test_the_configuration_must_be_a_cluster_config() -> None:
    with pytest.raises(TypeError, match="ClusterConfig"):
        ArakoonClient("arakoon@n0=127.0.0.1:4000", Clock())  # type: ignore[arg-type]


def test_a_subclass_that_overrides_process_is_called_for_every_command() -> None:
    seen: list[str] = []

    class Recording(ArakoonClient):
        def _process(self, message: Message[T]) -> Deferred[T]:
            seen.append(message.command.name)
            return super()._process(message)

    client = Recording(CONFIG, Clock())
    client.get(b"k").addErrback(lambda _: None)
    client.set(b"k", b"v").addErrback(lambda _: None)
    assert seen == ["get", "set"]
    client.disconnect()


def test_an_integer_timeout_is_the_same_float_timeout() -> None:
    assert ArakoonClient(CONFIG, Clock(), timeout=5).timeout == 5.0
    assert CallOptions(timeout=2).timeout == 2.0
    with pytest.raises(TypeError, match="timeout must be a number"):
        CallOptions(timeout=True)

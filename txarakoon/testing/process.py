"""``txarakoon serve`` in a child process, for tests whose service under test
runs in another process than the tests.

:class:`ServeProcess` starts the command with a control channel, reads what
it prints (:class:`Served`) and stops it::

    from txarakoon.testing.process import ServeProcess

    with ServeProcess.start("--count", "3", "--lease", "2") as served:
        start_my_service(nodes=served.served.nodes_spec)   # another process
        with served.control() as control:
            control.kill("n0")
            ...

What ``serve`` prints is written and read here, by :class:`Served`: its
``.ini``, then ``export TXARAKOON_NODES=...``, with ``--control`` an
``export TXARAKOON_CONTROL=host:port`` line, and a last line starting with
``# serving``.
"""

from __future__ import annotations

import os
import selectors
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Final

from ..config import ClusterConfig
from ..environment import NODES_VARIABLE
from .control import CONTROL_VARIABLE, ControlClient

__all__ = ["SERVING", "ServeProcess", "Served"]

#: The last line ``serve`` prints before serving.
SERVING: Final = "# serving; interrupt (Ctrl-C) to stop"
_EXPORT: Final = "export "


@dataclass(frozen=True)
class Served:
    """What ``txarakoon serve`` printed about the cluster it serves.

    :ivar ini: the cluster's client configuration, Arakoon's ``.ini``.
    :ivar nodes_spec: ``CLUSTER@name=host:port,...``, the ``TXARAKOON_NODES``
        value every ``txarakoon`` command reads.
    :ivar control: ``host:port`` of the control channel, or ``None`` without
        ``--control``.
    """

    ini: str
    nodes_spec: str
    control: str | None = None

    def text(self) -> str:
        """What ``serve`` prints: the ``.ini``, the ``export`` lines a shell
        can paste (a reader of the ``.ini`` takes them for extra settings),
        and :data:`SERVING`."""
        lines = [self.ini, f"{_EXPORT}{NODES_VARIABLE}={shlex.quote(self.nodes_spec)}"]
        if self.control is not None:
            lines.append(f"{_EXPORT}{CONTROL_VARIABLE}={shlex.quote(self.control)}")
        return "\n".join([*lines, SERVING, ""])

    @classmethod
    def parse(cls, text: str) -> Served:
        """Read :meth:`text`'s output back; ``ValueError`` if it is not that."""
        ini, exports = [], {}
        for line in text.splitlines(keepends=True):
            if line.startswith(SERVING):
                break
            if line.startswith(_EXPORT):
                # What a shell makes of the line: it is quoted for one.
                name, _, value = shlex.split(line)[1].partition("=")
                exports[name] = value
            elif not exports:
                ini.append(line)
        else:
            raise ValueError(f"not what txarakoon serve prints: no {SERVING!r} line")
        if NODES_VARIABLE not in exports:
            raise ValueError(f"not what txarakoon serve prints: no {NODES_VARIABLE} line")
        # The blank line print() added after the .ini.
        text_ini = "".join(ini).removesuffix("\n")
        return cls(text_ini, exports[NODES_VARIABLE], exports.get(CONTROL_VARIABLE))

    def config(self) -> ClusterConfig:
        """The client configuration of the served cluster."""
        return ClusterConfig.from_spec(self.nodes_spec)

    def environ(self) -> dict[str, str]:
        """The variables the ``export`` lines set: give them to a child process."""
        variables = {NODES_VARIABLE: self.nodes_spec}
        if self.control is not None:
            variables[CONTROL_VARIABLE] = self.control
        return variables


class ServeProcess:
    """A running ``txarakoon serve`` child process; build it with
    :meth:`start`. A context manager: leaving it stops the process.

    :ivar process: the :class:`subprocess.Popen`.
    :ivar served: what it printed (:class:`Served`).
    """

    def __init__(self, process: subprocess.Popen[bytes], served: Served, stderr: IO[bytes]):
        self.process = process
        self.served = served
        self._stderr = stderr

    @classmethod
    def start(
        cls,
        *options: str,
        command: Sequence[str] = (sys.executable, "-m", "txarakoon"),
        env: Mapping[str, str] | None = None,
        timeout: float = 60.0,
    ) -> ServeProcess:
        """Run ``command serve --control 0 *options`` (``--control`` is left
        out if ``options`` name one) and wait until it serves.

        ``command``: how to run txarakoon (default: ``python -m txarakoon``
        with this interpreter); ``env``: the child's environment (default:
        this process's). Raises :class:`RuntimeError` with the child's last
        line of standard error if it exits first (e.g. a bad option), and
        :class:`TimeoutError` if it does not serve within ``timeout`` seconds.
        """
        argv = [*command, "serve", *options]
        if not any(option.partition("=")[0] == "--control" for option in options):
            argv[len(command) + 1 : len(command) + 1] = ["--control", "0"]
        # A file, not a pipe: nobody reads it while the child serves, and a
        # full pipe would block the child. It lives as long as the process.
        stderr = tempfile.TemporaryFile()  # noqa: SIM115
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=None if env is None else dict(env),
        )
        try:
            text = _read_until_serving(process, timeout)
        except BaseException:
            _stop(process)
            stderr.close()
            raise
        if text is None:
            code = process.wait()
            stderr.seek(0)
            lines = stderr.read().decode("utf-8", "replace").strip().splitlines() or ["(nothing)"]
            stderr.close()
            raise RuntimeError(f"{shlex.join(argv)} exited with code {code}: {lines[-1]}")
        return cls(process, Served.parse(text), stderr)

    def __repr__(self) -> str:
        return f"<ServeProcess pid={self.process.pid} {self.served.nodes_spec}>"

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def config(self) -> ClusterConfig:
        """The client configuration of the served cluster."""
        return self.served.config()

    def control(self, timeout: float | None = 30.0) -> ControlClient:
        """A new blocking client of the process's control channel (close it,
        or use it in a ``with`` block)."""
        if self.served.control is None:
            raise RuntimeError("this txarakoon serve has no control channel")
        return ControlClient(self.served.control, timeout)

    def stop(self) -> int:
        """Stop the process (SIGTERM, then SIGKILL after 10 s); its exit code."""
        code = _stop(self.process)
        self._stderr.close()
        return code


def _stop(process: subprocess.Popen[bytes]) -> int:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()
    return process.returncode


def _read_until_serving(process: subprocess.Popen[bytes], timeout: float) -> str | None:
    """What the process printed up to its :data:`SERVING` line, or ``None`` if
    it closed its output first."""
    assert process.stdout is not None
    descriptor = process.stdout.fileno()
    deadline = time.monotonic() + timeout
    printed = b""
    with selectors.DefaultSelector() as selector:
        selector.register(descriptor, selectors.EVENT_READ)
        while SERVING.encode() not in printed:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                raise TimeoutError(f"txarakoon serve did not serve within {timeout} s")
            chunk = os.read(descriptor, 65536)
            if not chunk:
                return None
            printed += chunk
    return printed.decode("utf-8")

"""How a command's method is made: one function, compiled for its
parameters, that passes them on by position (see :mod:`txarakoon.facade`)."""

from __future__ import annotations

import inspect
import linecache
from collections.abc import Callable
from types import FunctionType
from typing import Any

__all__ = ["compile_method", "named", "positional_twin"]


def named(build: FunctionType, name: str, doc: str) -> FunctionType:
    """A copy of ``build`` named ``name`` and documented by ``doc``: several
    commands may share one ``through``."""
    named = FunctionType(
        build.__code__, build.__globals__, name, build.__defaults__, build.__closure__
    )
    named.__kwdefaults__ = build.__kwdefaults__
    named.__annotations__ = dict(build.__annotations__)
    named.__qualname__ = name
    named.__module__ = build.__module__
    named.__doc__ = doc
    return named


def compile_method(
    build: FunctionType, signature: inspect.Signature, send: Callable[..., Any] | None = None
) -> FunctionType:
    """``def get(self, <the builder's parameters>): return
    self._process(build(<the same>))``, with the builder (its positional twin)
    in a closure; or, given ``send``, ``self._process(send(<the same>))``.

    Generated, like a dataclass's ``__init__``, because ``*args, **kwargs``
    would cost a tuple and a dict per call, and hide the signature."""
    name = build.__name__
    head = ["self"]
    for parameter in signature.parameters.values():
        if parameter.name in ("self", "_build"):
            raise TypeError(f"the builder of {name} must not take {parameter.name!r}")
        if parameter.kind is parameter.KEYWORD_ONLY:
            if "*" not in head:
                head.append("*")
        elif parameter.kind is not parameter.POSITIONAL_OR_KEYWORD:
            raise TypeError(f"the builder of {name} takes {parameter.kind.description} parameters")
        head.append(parameter.name)
    twin = positional_twin(build)
    target = twin if send is None else send
    parameters = inspect.signature(twin).parameters.values()
    call = [f"{p.name}={p.name}" if p.kind is p.KEYWORD_ONLY else p.name for p in parameters]
    source = (
        "def _make(_build):\n"
        f"    def {name}({', '.join(head)}):\n"
        f"        return self._process(_build({', '.join(call)}))\n"
        f"    return {name}\n"
    )
    filename = f"<command {build.__module__}.{build.__qualname__}>"
    # So that a traceback through the method shows its line.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {}
    exec(compile(source, filename, "exec"), build.__globals__, namespace)
    made: FunctionType = namespace["_make"](target)
    return made


def positional_twin(build: FunctionType) -> FunctionType:
    """``build`` with its keyword-only parameters made positional, the same
    code otherwise; ``build`` itself if it has none, or if this interpreter
    will not allow it.

    The method has already bound the caller's arguments to its own
    parameters, so it passes them all on by position: a call with keywords
    costs about 70 ns more on CPython 3.11, as much as the whole call to the
    builder does otherwise. Keyword-only parameters are the locals right after
    the positional ones (the builder takes no ``*args``), so counting them as
    positional changes nothing else in the code object.
    """
    code = build.__code__
    if not code.co_kwonlyargcount:
        return build
    try:
        twin = FunctionType(
            code.replace(
                co_argcount=code.co_argcount + code.co_kwonlyargcount, co_kwonlyargcount=0
            ),
            build.__globals__,
            build.__name__,
            None,
            build.__closure__,
        )
    except (AttributeError, TypeError, ValueError):
        return build
    if list(inspect.signature(twin).parameters) != list(inspect.signature(build).parameters):
        return build
    return twin

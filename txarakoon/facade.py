'''How each command of the facade is written once and typed for both flavours.

A command of :class:`~txarakoon.client.ClientMixin` or
:class:`~txarakoon.admin.AdminMixin` is written once, as a *builder*: a function
with the method's parameters, defaults and docstring, which checks its
arguments and returns the :class:`~txarakoon.messages.Message` to send::

    class ClientMixin(Facade[M]):
        @command
        def get(key: Key, allow_dirty: AllowDirty = NOT_GIVEN) -> Message[bytes]:
            """The value bound to ``key``."""
            return messages.GET(resolve(allow_dirty, None), key)

A command that sends its declaration as it is needs no builder:
``nop = command.sends(messages.NOP, "doc")``; one whose arguments some other
commands share takes a function that maps its parameters to them, written once
for all of them: ``command.sends(messages.RANGE, "doc", _range_arguments)``.
The result is then the one the declaration is annotated with in
:mod:`txarakoon.messages` (``NOP: Final[Command[None]]``), which the type checker
holds it to.

Every client then has the method ``get(self, key, allow_dirty=NOT_GIVEN)``,
which builds the message and returns ``self._process(message)``. A client picks
its flavour by the marker it gives the mixin: on a ``ClientMixin[Async]``
(:class:`~txarakoon.protocol.ArakoonProtocol`, the cluster clients) ``get``
returns a ``Deferred[bytes]``, on a ``ClientMixin[Sync]``
(:class:`~txarakoon.blocking.SocketClient`) ``bytes``.

How:

* For the type checker, :class:`command` is a descriptor whose ``__get__`` is
  overloaded on the flavour of the instance and carries the builder's
  parameters (a ``ParamSpec``): ``proto.get(k)`` is a ``Deferred[bytes]``,
  ``SocketClient(...).get(k)`` is ``bytes`` (never their union), and an argument
  of the wrong type or an unknown keyword is an error.
* At run time no descriptor is left. For each command, :class:`command` compiles
  once a function with exactly the builder's parameters, which passes them on to
  the builder by position (no ``*args``: a call costs what a hand-written
  method costs, plus the builder's frame), and makes copies of it that differ
  only in what :func:`help` and Sphinx read: one per
  flavour, whose ``__signature__`` returns that flavour's type, and a generic
  one, left in the mixin, whose docstring starts with both signatures.
  ``Facade.__init_subclass__`` puts the copy of its flavour into each class
  that picks one, as a plain function in its ``__dict__``.
'''

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from types import FunctionType
from typing import (
    TYPE_CHECKING,
    Any,
    Concatenate,
    Generic,
    ParamSpec,
    TypeVar,
    cast,
    get_args,
    get_origin,
    overload,
)

from . import messages
from .messages import Command, Message
from .trampolines import compile_method, named, positional_twin

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred

# Async and Sync are documented (and usually imported) with the mixins, in
# txarakoon.client.
__all__ = ["Facade", "command", "flavour_of"]

P = ParamSpec("P")
Q = ParamSpec("Q")
R = TypeVar("R")
T = TypeVar("T")


class Async:
    """Type marker: the client's methods return Deferreds."""


class Sync:
    """Type marker: the client's methods return values (they block)."""


M = TypeVar("M", Async, Sync)

_FLAVOURS = (Async, Sync)

# Every function made for a command, and the flavour it was made for (None for
# the generic one that stays in the mixin).
_MADE: dict[FunctionType, tuple[command[Any, Any], type | None]] = {}


class Facade(Generic[M]):
    """Base of the mixins of commands: declares what their methods call.

    A subclass that gives ``M`` (``ClientMixin[Async]``) gets, in its own
    ``__dict__``, the methods of that flavour of every command it inherits and
    does not override.
    """

    def _process(self, message: Message[T]) -> Any:
        """Send ``message`` (``message.serialize()``), decode its reply with
        ``message.receive()`` and return the value or raise the error: the
        value itself on a ``Sync`` client, a Deferred of it on an ``Async``
        one. Every client implements this."""
        raise NotImplementedError

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        flavour = _flavour(cls)
        if flavour is None:
            return
        seen: set[str] = set()
        # In MRO order, so that the first value of a name is the one that
        # attribute lookup finds: an override (anywhere earlier) stays.
        for klass in cls.__mro__:
            for name, value in vars(klass).items():
                if name in seen:
                    continue
                seen.add(name)
                made = _MADE.get(value) if isinstance(value, FunctionType) else None
                if made is not None and made[1] is None:
                    setattr(cls, name, made[0].methods[flavour])


def _flavour(cls: type) -> type | None:
    """The marker the nearest class of ``cls``'s MRO gave a Facade mixin."""
    for klass in cls.__mro__:
        found = {
            argument
            for base in vars(klass).get("__orig_bases__", ())
            if isinstance(get_origin(base), type) and issubclass(get_origin(base), Facade)
            for argument in get_args(base)
            if argument in _FLAVOURS
        }
        if len(found) > 1:
            raise TypeError(f"{cls.__qualname__} mixes the Async and Sync flavours")
        if found:
            flavour: type = found.pop()
            return flavour
    return None


def flavour_of(method: object) -> type | None:
    """:class:`Async` or :class:`Sync` if ``method`` is the copy of a command
    made for that flavour, else ``None`` (the generic copy, anything else)."""
    made = _MADE.get(method) if isinstance(method, FunctionType) else None
    return None if made is None else made[1]


class _Text(str):
    """An annotation shown as written: ``-> Deferred[bytes]`` in :func:`help`,
    where a plain string would be quoted (``-> 'Deferred[bytes]'``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


def _text(annotation: Any) -> Any:
    if annotation is inspect.Parameter.empty:
        return annotation
    if isinstance(annotation, str):
        return _Text(annotation)
    return _Text(inspect.formatannotation(annotation))


_MESSAGE_OF = re.compile(r"(?:\w+\.)*Message\[(.+)\]")


def _result(annotation: Any, name: str) -> str:
    """``bytes`` from a builder's ``-> Message[bytes]``."""
    if isinstance(annotation, str):
        match = _MESSAGE_OF.fullmatch(annotation.strip())
        if match:
            return match[1]
    elif get_origin(annotation) is Message:
        return inspect.formatannotation(get_args(annotation)[0])
    raise TypeError(f"the builder of {name} must return Message[...], not {annotation!r}")


_DECLARED_AS = re.compile(r"Final\[Command\[(.+)\]\]")


def _declared_result(declaration: Command[Any]) -> str:
    """``Version`` from ``VERSION_COMMAND: Final[Command[Version]] = ...`` in
    :mod:`txarakoon.messages`: the type checker holds the declaration to it."""
    for name, value in vars(messages).items():
        if value is declaration:
            match = _DECLARED_AS.fullmatch(messages.__annotations__.get(name, ""))
            if match:
                return match[1]
    raise TypeError(
        f"{declaration!r} must be declared in txarakoon.messages as Final[Command[<its result>]]"
    )


def _no_parameters() -> None:
    """The parameters of a command that takes none."""


_NO_PARAMETERS: FunctionType = cast(FunctionType, _no_parameters)


class command(Generic[P, R]):  # lower case: used as a decorator, like property
    """Declare a command of a :class:`Facade` mixin by its builder (see the
    module documentation).

    The builder may take positional-or-keyword and keyword-only parameters,
    and must be annotated ``-> Message[result]``.
    """

    def __init__(self, build: Callable[P, Message[R]]) -> None:
        if not isinstance(build, FunctionType):
            raise TypeError(f"@command takes a function, not {build!r}")
        self._init(build, _result(inspect.signature(build).return_annotation, build.__name__))

    def _init(
        self, build: FunctionType, result: str, send: Callable[..., Any] | None = None
    ) -> None:
        self.build: FunctionType = build
        self._signature = inspect.signature(build)
        self._result = result
        self._template = compile_method(build, self._signature, send)
        # The method of each flavour, made once the command has a name.
        self.methods: dict[type, FunctionType] = {}

    @overload
    @classmethod
    def sends(cls, declaration: Command[T], doc: str) -> command[[], T]: ...
    @overload
    @classmethod
    def sends(
        cls, declaration: Command[T], doc: str, through: Callable[Q, tuple[Any, ...]]
    ) -> command[Q, T]: ...
    @classmethod
    def sends(
        cls,
        declaration: Command[T],
        doc: str,
        through: Callable[..., tuple[Any, ...]] | None = None,
    ) -> command[..., T]:
        """A command whose method sends ``declaration``, with no builder to
        write: ``through``, if given, takes the method's parameters and
        returns the declaration's arguments (several commands may share it);
        the result is the one the declaration is annotated with in
        :mod:`txarakoon.messages`::

            version = command.sends(messages.VERSION_COMMAND, "The node's version.")
        """
        if not isinstance(declaration, Command):
            raise TypeError(f"command.sends takes a Command, not {declaration!r}")
        made: command[..., T] = object.__new__(command)
        send: Callable[..., Message[T]] = declaration
        if through is None:
            if declaration.arguments:
                raise TypeError(f"{declaration.name} takes arguments: give them through")
            build = _NO_PARAMETERS
        else:
            if not isinstance(through, FunctionType):
                raise TypeError(f"through takes a function, not {through!r}")
            build, arguments = through, positional_twin(through)

            def send(*values: Any, **named: Any) -> Message[T]:
                return declaration(*arguments(*values, **named))

        made._init(named(build, declaration.name, doc), _declared_result(declaration), send)
        return made

    if TYPE_CHECKING:
        # What the type checker sees: a descriptor whose result depends on the
        # flavour of the class or instance it is read on. At run time there is
        # none: __set_name__ puts a plain function in its place.

        @overload
        def __get__(
            self, instance: None, owner: type[Facade[Async]]
        ) -> Callable[Concatenate[Facade[Async], P], Deferred[R]]: ...
        @overload
        def __get__(
            self, instance: None, owner: type[Facade[Sync]]
        ) -> Callable[Concatenate[Facade[Sync], P], R]: ...
        @overload
        def __get__(self, instance: Facade[Async], owner: Any) -> Callable[P, Deferred[R]]: ...
        @overload
        def __get__(self, instance: Facade[Sync], owner: Any) -> Callable[P, R]: ...
        def __get__(self, instance: object, owner: Any) -> Any: ...

    def __set_name__(self, owner: type, name: str) -> None:
        if not issubclass(owner, Facade):
            raise TypeError(f"@command {name} must be declared in a Facade subclass")
        result = self._result
        self._module = owner.__module__
        parameters = [
            inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
            *(
                p.replace(annotation=_text(p.annotation))
                for p in self._signature.parameters.values()
            ),
        ]
        returns = {Async: f"Deferred[{result}]", Sync: result}
        qualname = f"{owner.__qualname__}.{name}"
        doc = self.build.__doc__
        for flavour, text in returns.items():
            signature = inspect.Signature(parameters, return_annotation=_Text(text))
            self.methods[flavour] = self._copy(name, qualname, doc, signature, text)
            _MADE[self.methods[flavour]] = (self, flavour)
        # The generic copy documents both flavours the way a builtin documents
        # several signatures: one line each at the start of its docstring,
        # which Sphinx (autodoc_docstring_signature) shows as its signatures.
        lines = [
            f"{name}{inspect.Signature(parameters[1:], return_annotation=_Text(text))}"
            for text in returns.values()
        ]
        doc = "\n".join([*lines, "", inspect.cleandoc(doc or "")])
        generic = self._copy(name, qualname, doc, inspect.Signature(parameters), None)
        _MADE[generic] = (self, None)
        setattr(owner, name, generic)

    def _copy(
        self,
        name: str,
        qualname: str,
        doc: str | None,
        signature: inspect.Signature,
        returns: str | None,
    ) -> FunctionType:
        """The template, with what introspection reads of this copy."""
        template, build = self._template, self.build
        method = FunctionType(
            template.__code__, template.__globals__, name, build.__defaults__, template.__closure__
        )
        method.__kwdefaults__ = dict(build.__kwdefaults__) if build.__kwdefaults__ else None
        method.__qualname__ = qualname
        method.__module__ = self._module
        method.__doc__ = doc
        method.__annotations__ = {k: v for k, v in build.__annotations__.items() if k != "return"}
        if returns is not None:
            method.__annotations__["return"] = returns
        vars(method)["__signature__"] = signature
        return method

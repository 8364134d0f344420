"""Registration of workflows and activities.

Decorate functions, or pass plain functions to :class:`~durable.Worker`:

    @durable.workflow
    async def workflow1(ctx: durable.WorkflowContext, input: str) -> int: ...

    @durable.activity(name="Activity1")
    def activity1(a: int, b: int) -> int: ...

Names default to the function's ``__name__``. A workflow must be an ``async
def`` taking a :class:`~durable.WorkflowContext` first. An activity is a plain
function (run in a worker thread) or an ``async def`` (run on the worker's
asyncio loop); it receives an :class:`~durable.ActivityContext` as its first
argument only if that parameter is annotated with it.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from typing import Any, Callable, Dict, Iterable, List, Optional, TypeVar, Union, overload

from durable.errors import InvalidArgumentError

__all__ = ["workflow", "activity", "WorkflowDefinition", "ActivityDefinition"]

F = TypeVar("F", bound=Callable[..., Any])

_WORKFLOW_ATTR = "__durable_workflow__"
_ACTIVITY_ATTR = "__durable_activity__"


def _hints(fn: Callable[..., Any]) -> Dict[str, Any]:
    try:
        return typing.get_type_hints(fn)
    except Exception:  # unresolved forward references: convert without hints
        return {}


@dataclasses.dataclass(frozen=True)
class WorkflowDefinition:
    """A workflow function with its registered name and parameter types."""

    name: str
    fn: Callable[..., Any]
    signature: inspect.Signature
    param_hints: List[Any]
    return_hint: Any

    @staticmethod
    def of(fn: Callable[..., Any], name: Optional[str] = None) -> "WorkflowDefinition":
        existing = getattr(fn, _WORKFLOW_ATTR, None)
        if isinstance(existing, WorkflowDefinition) and name is None:
            return existing
        if not inspect.iscoroutinefunction(fn):
            raise TypeError(f"workflow {getattr(fn, '__name__', fn)!r} must be an `async def` "
                            "function taking a durable.WorkflowContext first")
        sig = inspect.signature(fn)
        params = list(sig.parameters.values())
        if not params:
            raise TypeError(f"workflow {fn.__name__!r} must take a durable.WorkflowContext "
                            "as its first parameter")
        hints = _hints(fn)
        rest = sig.replace(parameters=params[1:])
        return WorkflowDefinition(
            name=name or fn.__name__,
            fn=fn,
            signature=rest,
            param_hints=[hints.get(p.name) for p in params[1:]],
            return_hint=hints.get("return"),
        )


@dataclasses.dataclass(frozen=True)
class ActivityDefinition:
    """An activity function with its registered name and parameter types."""

    name: str
    fn: Callable[..., Any]
    is_async: bool
    takes_context: bool
    signature: inspect.Signature
    param_hints: List[Any]
    return_hint: Any

    @staticmethod
    def of(fn: Callable[..., Any], name: Optional[str] = None) -> "ActivityDefinition":
        existing = getattr(fn, _ACTIVITY_ATTR, None)
        if isinstance(existing, ActivityDefinition) and name is None:
            return existing
        if not callable(fn):
            raise TypeError(f"activity {fn!r} is not callable")
        from durable._activity import ActivityContext

        sig = inspect.signature(fn)
        params = list(sig.parameters.values())
        hints = _hints(fn)
        takes_context = bool(params) and (
            hints.get(params[0].name) is ActivityContext
            or params[0].annotation in ("ActivityContext", "durable.ActivityContext"))
        if takes_context:
            params = params[1:]
        return ActivityDefinition(
            name=name or fn.__name__,
            fn=fn,
            is_async=inspect.iscoroutinefunction(fn),
            takes_context=takes_context,
            signature=sig.replace(parameters=params),
            param_hints=[hints.get(p.name) for p in params],
            return_hint=hints.get("return"),
        )


@overload
def workflow(fn: F) -> F: ...
@overload
def workflow(*, name: Optional[str] = None) -> Callable[[F], F]: ...


def workflow(fn: Optional[F] = None, *, name: Optional[str] = None) -> Union[F, Callable[[F], F]]:
    """Marks an ``async def`` as a workflow, registered as ``name`` (default: its name).

    The function is returned unchanged (apart from a marker attribute), so it
    can still be passed to ``Client.create`` and ``Worker(workflows=[...])``.
    """

    def mark(f: F) -> F:
        setattr(f, _WORKFLOW_ATTR, WorkflowDefinition.of(f, name))
        return f

    return mark(fn) if fn is not None else mark


@overload
def activity(fn: F) -> F: ...
@overload
def activity(*, name: Optional[str] = None) -> Callable[[F], F]: ...


def activity(fn: Optional[F] = None, *, name: Optional[str] = None) -> Union[F, Callable[[F], F]]:
    """Marks a function (plain or ``async def``) as an activity named ``name``."""

    def mark(f: F) -> F:
        setattr(f, _ACTIVITY_ATTR, ActivityDefinition.of(f, name))
        return f

    return mark(fn) if fn is not None else mark


def workflow_name(fn_or_name: Union[str, Callable[..., Any]]) -> str:
    """The registered name of a workflow given as a function or a name."""
    if isinstance(fn_or_name, str):
        return fn_or_name
    definition = getattr(fn_or_name, _WORKFLOW_ATTR, None)
    if isinstance(definition, WorkflowDefinition):
        return definition.name
    return getattr(fn_or_name, "__name__")


def activity_definition(fn: Callable[..., Any]) -> ActivityDefinition:
    return ActivityDefinition.of(fn)


def build_table(items: Iterable[Any], kind: str,
                of: Callable[[Any], Any]) -> Dict[str, Any]:
    """Builds name -> definition, rejecting duplicate names."""
    table: Dict[str, Any] = {}
    for item in items:
        definition = item if isinstance(item, (WorkflowDefinition, ActivityDefinition)) else of(item)
        if definition.name in table and table[definition.name].fn is not definition.fn:
            raise InvalidArgumentError(f"two {kind}s are registered as {definition.name!r}")
        table[definition.name] = definition
    return table

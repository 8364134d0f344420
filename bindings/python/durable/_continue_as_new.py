"""ContinueAsNewError: how workflow code ends its execution and starts the next.

The continue-as-new of the C++ facade's workflow_context.h
(``ctx.ContinueAsNew()``, docs/orchestration.md). In Python it is an
exception so that ``ctx.continue_as_new()`` can end the workflow from any
helper coroutine, and a BaseException so that ``except Exception`` in
workflow code does not swallow it. The next execution's arguments travel in
it, encoded when raised, so a value that does not encode fails where the
code raised it. The run turns it into the ContinueAsNew command once it
escapes the workflow function.
"""

from __future__ import annotations

from typing import Any, Callable, Union

from durable import converter
from durable.registry import workflow_name


class ContinueAsNewError(BaseException):
    """Raised to end the run and continue the instance as a new execution.

    :meth:`WorkflowContext.continue_as_new` raises it; ``raise
    durable.ContinueAsNewError(*args)`` is the same. When it escapes the
    workflow function, the run ends in state ``CONTINUED_AS_NEW`` and the
    instance starts over (same instance id, new execution id, empty history)
    with ``args``. It derives from BaseException so that ``except
    Exception`` in workflow code does not swallow it.

    Args:
        *args: the next execution's arguments (JSON-encoded when raised).
        workflow: the next execution's workflow (function or name); None:
            the same workflow.
        remove_previous_executions: delete the instance's earlier (ended)
            executions when the next one starts.
    """

    def __init__(self, *args: Any, workflow: Union[str, Callable[..., Any], None] = None,
                 remove_previous_executions: bool = False) -> None:
        super().__init__(*args)
        self.arguments = [converter.encode(a) for a in args]
        self.workflow_name = workflow_name(workflow) if workflow is not None else ""
        self.remove_previous_executions = remove_previous_executions

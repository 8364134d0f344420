"""ChildWorkflowHandle: the future of a sub-workflow's result.

The sub-workflows of the C++ facade's workflow_context.h
(``CreateSubWorkflowInstance``, docs/orchestration.md). The public Python
names say "child workflow" (``ctx.execute_child_workflow()``,
:class:`ChildWorkflowHandle`), like the protocol's StartChildWorkflow; the
concept is the engine's sub-workflow. The handle follows the child across
continue-as-new (it resolves with the final execution's result) and knows
when a cancellation arrives in the very activation that started the child,
when the engine drops both commands and only the binding can resolve it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from durable import converter
from durable._future import Future
from durable._proto import protocol_pb2
from durable.errors import (CANCELED_FAILURE_TYPE, ChildWorkflowCanceledError,
                            ChildWorkflowError, PayloadError, error_from_failure)

if TYPE_CHECKING:
    from durable._workflow_run import _Run

T = TypeVar("T")


class ChildWorkflowHandle(Future[T]):
    """A child workflow started with :meth:`WorkflowContext.execute_child_workflow`.

    Await it for the child's result; a failed child raises
    :class:`~durable.errors.ChildWorkflowError` with the child's failure type
    and message (:class:`~durable.errors.ChildWorkflowCanceledError` when it
    was canceled, :class:`~durable.errors.ChildWorkflowAlreadyExistsError`
    when an active instance has its id). A child that continues as new
    resolves with the final execution's result.

    Attributes:
        instance_id: the child's instance id (the one given, or the engine's
            deterministic ``"<parent execution id>/child-<seq>"``).
        workflow_name: the child's registered workflow name.
        seq: the command sequence number (diagnostics).
    """

    def __init__(self, run: "_Run", seq: int, instance_id: str, name: str,
                 result_hint: Any) -> None:
        super().__init__(run)
        self.seq = seq
        self.instance_id = instance_id
        self.workflow_name = name
        self._hint = result_hint
        self._started_in = run._activation_count
        self._cancel_requested = False

    def cancel(self) -> bool:
        """Asks the child to cancel; False if it already finished or was asked before.

        The child's context is canceled and the handle resolves with whatever
        the child then does (a value, or ChildWorkflowCanceledError if it
        re-raises the cancellation). A child canceled in the same activation
        that started it never runs: the handle fails at once with
        ChildWorkflowCanceledError.
        """
        run = self._run
        if self._done or self._cancel_requested:
            return False
        self._cancel_requested = True
        run._add_command(cancel_child_workflow=protocol_pb2.CancelChildWorkflow(seq=self.seq))
        if run._activation_count == self._started_in:
            # Its StartChildWorkflow is in this very completion: the engine
            # drops both commands, so nothing will ever resolve it.
            self._forget()
            error = ChildWorkflowCanceledError(
                f'child workflow "{self.workflow_name}" ({self.instance_id}) was canceled '
                "before it started; it never ran", type=CANCELED_FAILURE_TYPE)
            error.instance_id = self.instance_id
            self._set_exception(error)
        return True

    def _forget(self) -> None:
        self._run._pending_children.pop(self.seq, None)
        if self._scope is not None:
            self._scope.child_workflows.pop(self.seq, None)

    def _resolve(self, resolve: protocol_pb2.ResolveChildWorkflow) -> None:
        self._forget()
        if resolve.HasField("failed"):
            error = error_from_failure(resolve.failed, ChildWorkflowError)
            error.instance_id = self.instance_id  # type: ignore[attr-defined]
            self._set_exception(error)
            return
        try:
            value = converter.decode(resolve.completed, self._hint)
        except PayloadError as e:
            self._set_exception(e)
            return
        self._set_result(value)

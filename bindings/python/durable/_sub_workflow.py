"""SubWorkflowHandle: the future of a sub-workflow's result.

The sub-workflows of the C++ facade's workflow_context.h
(``CreateSubWorkflowInstance``, docs/orchestration.md), started with
``ctx.execute_sub_workflow()``; the protocol's StartSubWorkflow. The handle
follows the sub-workflow across continue-as-new (it resolves with the final
execution's result) and knows when a cancellation arrives in the very
activation that started it, when the engine drops both commands and only the
binding can resolve it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from durable import converter
from durable._future import Future
from durable._proto import protocol_pb2
from durable.errors import (CANCELED_FAILURE_TYPE, PayloadError, SubWorkflowCanceledError,
                            SubWorkflowError, error_from_failure)

if TYPE_CHECKING:
    from durable._workflow_run import _Run

T = TypeVar("T")


class SubWorkflowHandle(Future[T]):
    """A sub-workflow started with :meth:`WorkflowContext.execute_sub_workflow`.

    Await it for the sub-workflow's result; a failed sub-workflow raises
    :class:`~durable.errors.SubWorkflowError` with its failure type and
    message (:class:`~durable.errors.SubWorkflowCanceledError` when it
    was canceled, :class:`~durable.errors.SubWorkflowAlreadyExistsError`
    when an active instance has its id). A sub-workflow that continues as
    new resolves with the final execution's result.

    Attributes:
        instance_id: the sub-workflow's instance id (the one given, or the engine's
            deterministic ``"<parent execution id>/child-<seq>"``).
        workflow_name: the sub-workflow's registered workflow name.
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
        """Asks the sub-workflow to cancel; False if it already finished or was asked before.

        Its context is canceled and the handle resolves with whatever it
        then does (a value, or SubWorkflowCanceledError if it re-raises the
        cancellation). A sub-workflow canceled in the same activation
        that started it never runs: the handle fails at once with
        SubWorkflowCanceledError.
        """
        run = self._run
        if self._done or self._cancel_requested:
            return False
        self._cancel_requested = True
        run._add_command(cancel_sub_workflow=protocol_pb2.CancelSubWorkflow(seq=self.seq))
        if run._activation_count == self._started_in:
            # Its StartSubWorkflow is in this very completion: the engine
            # drops both commands, so nothing will ever resolve it.
            self._forget()
            error = SubWorkflowCanceledError(
                f'sub-workflow "{self.workflow_name}" ({self.instance_id}) was canceled '
                "before it started; it never ran", type=CANCELED_FAILURE_TYPE)
            error.instance_id = self.instance_id
            self._set_exception(error)
        return True

    def _forget(self) -> None:
        self._run._pending_sub_workflows.pop(self.seq, None)
        if self._scope is not None:
            self._scope.sub_workflows.pop(self.seq, None)

    def _resolve(self, resolve: protocol_pb2.ResolveSubWorkflow) -> None:
        self._forget()
        if resolve.HasField("failed"):
            error = error_from_failure(resolve.failed, SubWorkflowError)
            error.instance_id = self.instance_id  # type: ignore[attr-defined]
            self._set_exception(error)
            return
        try:
            value = converter.decode(resolve.completed, self._hint)
        except PayloadError as e:
            self._set_exception(e)
            return
        self._set_result(value)

"""Cancellation scopes: what canceling a WorkflowContext reaches.

The Python side of the C++ facade's cancellation.h and internal/cancel_state.h.
Every WorkflowContext has a scope; scopes form a tree (the workflow's root
scope, ``ctx.with_cancel()`` children and ``ctx.disconnected()`` roots), and
canceling one cancels its timers and sub-workflows, interrupts the tasks
waiting on its operations and cancels its derived scopes, in a fixed order so
that the commands it causes replay identically.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional

from durable.errors import CanceledError

if TYPE_CHECKING:
    from durable._future import Future
    from durable._sub_workflow import SubWorkflowHandle
    from durable._timer import Timer
    from durable._workflow_run import _Run


def _reached_by_cancellation(future: Future[Any]) -> bool:
    """Whether the instance's cancellation interrupts a wait on ``future``:
    not when it belongs to a scope no cancellation reached (disconnected)."""
    return future._scope is None or future._scope.canceled


class _Scope:
    """A cancellation scope: what canceling a WorkflowContext reaches."""

    def __init__(self, run: "_Run", parent: Optional["_Scope"], root: bool = False) -> None:
        self.run = run
        self.root = root
        self.canceled = False
        self.message = ""
        self.children: List[_Scope] = []
        self.timers: Dict[int, Timer] = {}
        self.sub_workflows: Dict[int, SubWorkflowHandle[Any]] = {}
        if parent is not None:
            parent.children.append(self)
            if parent.canceled:
                self.canceled, self.message = True, parent.message

    def refuses(self) -> Optional[CanceledError]:
        """The error new operations fail with: derived scopes refuse once canceled.

        The workflow's own context never refuses: after the instance was
        canceled, cleanup code keeps using it.
        """
        if self.canceled and not self.root:
            return CanceledError(self.message)
        return None

    def cancel(self, message: str) -> None:
        """Cancels the scope and its descendants, in a deterministic order:
        its timers and sub-workflows in start order, the waiters on its
        operations in task order, then derived scopes in creation order."""
        if self.canceled:
            return
        self.canceled, self.message = True, message
        for timer in list(self.timers.values()):
            timer.cancel(CanceledError(message))
        for handle in list(self.sub_workflows.values()):
            handle.cancel()
        for task in list(self.run._tasks):
            waiting_on = task._waiting_on
            if waiting_on is not None and waiting_on._scope is self:
                task._cancel_wait(CanceledError(message))
        for scope in self.children:
            scope.cancel(message)

"""Timer: a durable timer, the future of a StartTimer command.

The timers of the C++ facade's workflow_context.h (docs/timers.md). A timer
is resolved by the engine's FireTimer job, or by the binding when workflow
code or a canceled scope cancels it; then the CancelTimer command tells the
core to drop it and nothing comes back, so the timer forgets itself in the
run and in its scope right away.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from durable._future import Future
from durable._proto import protocol_pb2
from durable.errors import CanceledError

if TYPE_CHECKING:
    from durable._workflow_run import _Run


class Timer(Future[None]):
    """A durable timer started with :meth:`WorkflowContext.timer`.

    Resolves with None when it fires; :meth:`cancel` resolves it with
    :class:`~durable.errors.CanceledError` and tells the core to drop it.
    """

    def __init__(self, run: "_Run", seq: int) -> None:
        super().__init__(run)
        self.seq = seq

    def cancel(self, error: Optional[CanceledError] = None) -> bool:
        """Cancels a pending timer; returns False if it already fired or was canceled.

        Awaiting a canceled timer raises :class:`~durable.errors.CanceledError`.
        """
        if self._done:
            return False
        self._run._add_command(cancel_timer=protocol_pb2.CancelTimer(seq=self.seq))
        self._forget()
        self._set_exception(error or CanceledError("timer canceled"))
        return True

    def _forget(self) -> None:
        self._run._pending_timers.pop(self.seq, None)
        if self._scope is not None:
            self._scope.timers.pop(self.seq, None)

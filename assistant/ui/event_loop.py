"""The one event loop of the app: Qt's, driving asyncio (qasync).

qasync's `run_forever` leaves out what asyncio's own does for async generators: installing the
hooks that let the loop finalize a generator abandoned mid-iteration (a reply stream cut by
barge-in). Without them the generator's `finally` (closing an HTTP response) runs whenever the
garbage collector gets to it, on any thread. This loop installs them for as long as it runs.
"""

from __future__ import annotations

import sys
from typing import Any

import qasync


class AppEventLoop(qasync.QEventLoop):  # type: ignore[misc]
    def _before_run_forever(self) -> None:
        super()._before_run_forever()
        self._previous_asyncgen_hooks: Any = sys.get_asyncgen_hooks()
        sys.set_asyncgen_hooks(
            firstiter=self._asyncgen_firstiter_hook,
            finalizer=self._asyncgen_finalizer_hook,
        )

    def _after_run_forever(self) -> None:
        previous = getattr(self, "_previous_asyncgen_hooks", None)
        if previous is not None:
            sys.set_asyncgen_hooks(*previous)
            self._previous_asyncgen_hooks = None
        super()._after_run_forever()

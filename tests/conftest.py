"""Test session set-up: every async test and fixture runs on the qasync loop, the app's own loop.

Widgets render offscreen unless a test starts a real X screen (tests/support/xvfb.py).
"""

from __future__ import annotations

import atexit
import gc
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtWidgets import QApplication

from assistant.ui.event_loop import AppEventLoop

# The virtual sound card fixtures live beside the other rigs.
pytest_plugins = ["tests.support.pulse"]

# The per-user folders (config, history, logs, downloaded models, the window's memory) point into
# one temporary folder for the whole session: a test that forgets to choose its own paths still
# writes nothing in the real home folder.
_USER_FOLDERS = tempfile.mkdtemp(prefix="assistant-tests-home-")
atexit.register(shutil.rmtree, _USER_FOLDERS, ignore_errors=True)
for _variable in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
    os.environ[_variable] = os.path.join(_USER_FOLDERS, _variable.lower())


def _qt_app() -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication([])
    # Closing a test's window must not quit Qt: that would stop the loop under the test.
    app.setQuitOnLastWindowClosed(False)
    return app


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    # A finished test's qasync loop still owns Qt timers. Left to the garbage collector, it may be
    # freed on a worker thread (Whisper's, a loopback server's), where Qt cannot remove timers,
    # and the next timer crashes the process. Collect here, on the main thread, before and after.
    gc.collect()
    try:
        return (yield)
    finally:
        gc.collect()


# Every test's loop is kept until the session ends: a closed qasync loop still has Qt timers
# registered, and Qt crashes if the loop object is freed while a later test's loop runs.
_FINISHED_LOOPS: list[AppEventLoop] = []


def _new_loop() -> AppEventLoop:
    loop = AppEventLoop(_qt_app())
    _FINISHED_LOOPS.append(loop)
    return loop


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], Any]]:
    return {"qasync": _new_loop}


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A throwaway CA and a certificate for 127.0.0.1 / localhost / ::1."""
    from tests.support.loopback import TlsFiles

    return TlsFiles.create(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def loopback(tls: Any) -> Any:
    """Start HTTPS servers on 127.0.0.1: `server = loopback(handler)`; all stop after the test."""
    from contextlib import ExitStack

    from tests.support.loopback import Handler, LoopbackServer

    with ExitStack() as stack:

        def start(handler: Handler, *, http2: bool = True) -> LoopbackServer:
            return stack.enter_context(LoopbackServer(handler, tls, http2=http2))

        yield start


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Free the kept loops while Qt and Python are both fully alive, not during interpreter
    # shutdown, when their destruction order is undefined.
    while _FINISHED_LOOPS:
        loop = _FINISHED_LOOPS.pop()
        if not loop.is_closed():
            loop.close()
        del loop
    gc.collect()

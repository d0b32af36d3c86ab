"""Test session set-up: every async test and fixture runs on the qasync loop, the app's own loop.

Widgets render offscreen unless a test starts a real X screen (tests/support/xvfb.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
import qasync  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

# The virtual sound card fixtures live beside the other rigs.
pytest_plugins = ["tests.support.pulse"]


def _qt_app() -> QApplication:
    app = QApplication.instance()
    return app if isinstance(app, QApplication) else QApplication([])


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], Any]]:
    return {"qasync": lambda: qasync.QEventLoop(_qt_app())}


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A throwaway CA and a certificate for 127.0.0.1 / localhost / ::1."""
    from tests.support.loopback import TlsFiles

    return TlsFiles.create(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def loopback(tls: Any) -> Any:
    """Start HTTPS servers on 127.0.0.1: `server = loopback(handler, http2=True)`; all stop after the test."""
    from contextlib import ExitStack

    from tests.support.loopback import Handler, LoopbackServer

    with ExitStack() as stack:

        def start(handler: Handler, *, http2: bool = True) -> LoopbackServer:
            return stack.enter_context(LoopbackServer(handler, tls, http2=http2))

        yield start

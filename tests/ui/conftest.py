"""GUI tests keep Qt's per-user files (the window's remembered geometry) in a temporary folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings


@pytest.fixture(autouse=True)
def _qt_settings_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("qt-settings")
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(folder))
        QSettings.setPath(QSettings.Format.NativeFormat, scope, str(folder))
    yield folder


@pytest.fixture
def window_memory(tmp_path: Path) -> QSettings:
    """Where a MainWindow remembers itself in a test: an INI file in the test's folder."""
    return QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)

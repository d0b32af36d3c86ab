"""The banner for a speech model that is not on this computer: what it says, and that each of its
buttons does what it says (the folder dialog is answered at Qt's boundary: it needs a human)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QWidget

from assistant.ui.model_banner import BUILT_IN, ModelBanner

pytestmark = pytest.mark.gui

WHY = "The speech model 'base.en' is not on this computer and could not be downloaded (offline)."


def banner_showing(qtbot: Any, *, builtin: bool = True, model: str = "base.en") -> ModelBanner:
    banner = ModelBanner()
    qtbot.addWidget(banner)
    banner.builtin_available = builtin
    banner.show_missing(model, WHY)
    return banner


def chosen(banner: ModelBanner) -> list[str]:
    said: list[str] = []
    banner.model_chosen.connect(said.append)
    return said


def answer_the_folder_dialog(monkeypatch: pytest.MonkeyPatch, folder: str) -> list[str]:
    """The folder a person would pick; returns the titles of the dialogs that were asked."""
    asked: list[str] = []

    def pick(parent: QWidget, title: str, start: str = "", *args: object) -> str:
        asked.append(title)
        return folder

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(pick))
    return asked


def test_it_says_in_one_sentence_which_model_is_missing(qtbot: Any) -> None:
    banner = banner_showing(qtbot)
    assert banner.isVisible()
    assert banner.message.text() == (
        "The speech model base.en is not on this computer, and it could not be downloaded just now."
    )
    assert banner.accessibleDescription() == WHY  # the details, for a screen reader
    assert [b.text().replace("&", "") for b in banner.buttons()] == [
        "Try again",
        "Choose a folder…",
        "Use the built-in model",
    ]


def test_the_built_in_model_is_offered_only_when_it_is_installed(qtbot: Any) -> None:
    assert not banner_showing(qtbot, builtin=False).builtin_button.isVisible()
    assert banner_showing(qtbot, builtin=True).builtin_button.isVisible()
    # the built-in model itself missing: offering it again would help nobody
    assert not banner_showing(qtbot, model=BUILT_IN).builtin_button.isVisible()


def test_use_the_built_in_model_chooses_it(qtbot: Any) -> None:
    banner = banner_showing(qtbot)
    said = chosen(banner)
    qtbot.mouseClick(banner.builtin_button, Qt.MouseButton.LeftButton)
    assert said == [BUILT_IN]


def test_a_missing_built_in_model_is_offered_as_a_download_of_the_same_model(qtbot: Any) -> None:
    banner = banner_showing(qtbot, model=BUILT_IN)
    said = chosen(banner)
    assert banner.message.text() == "The built-in speech model is missing from this installation."
    assert banner.retry_button.text().replace("&", "") == "Download it (tiny.en, 75 MB)"
    qtbot.mouseClick(banner.retry_button, Qt.MouseButton.LeftButton)
    assert said == ["tiny.en"]  # saved as the [stt] model, which downloads it with progress
    assert banner.retry_button.text() == "Trying…"


def test_try_again_asks_once_and_waits(qtbot: Any) -> None:
    banner = banner_showing(qtbot)
    retried: list[bool] = []
    banner.retry_requested.connect(lambda: retried.append(True))
    qtbot.mouseClick(banner.retry_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(banner.retry_button, Qt.MouseButton.LeftButton)  # a second click: nothing
    assert retried == [True]
    assert banner.retry_button.text() == "Trying…"
    assert not any(button.isEnabled() for button in banner.buttons())
    banner.show_missing("base.en", WHY)  # it failed again
    assert all(button.isEnabled() for button in banner.buttons())


def test_a_folder_holding_a_model_is_chosen(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "model.bin").write_bytes(b"weights")
    asked = answer_the_folder_dialog(monkeypatch, str(tmp_path))
    banner = banner_showing(qtbot)
    said = chosen(banner)
    qtbot.mouseClick(banner.folder_button, Qt.MouseButton.LeftButton)
    assert asked == ["Choose the folder that holds the speech model"]
    assert said == [str(tmp_path)]
    assert not banner.refusal.isVisible()


def test_a_folder_without_a_model_is_refused_with_a_reason(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "notes.txt").write_text("not a model")
    answer_the_folder_dialog(monkeypatch, str(tmp_path))
    banner = banner_showing(qtbot)
    said = chosen(banner)
    qtbot.mouseClick(banner.folder_button, Qt.MouseButton.LeftButton)
    assert said == []
    assert banner.refusal.isVisible() and banner.refusal.failed
    assert str(tmp_path) in banner.refusal.text() and "model.bin" in banner.refusal.text()
    assert banner.isVisible()  # still there to choose again


def test_closing_the_folder_dialog_changes_nothing(
    qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer_the_folder_dialog(monkeypatch, "")  # Cancel
    banner = banner_showing(qtbot)
    said = chosen(banner)
    qtbot.mouseClick(banner.folder_button, Qt.MouseButton.LeftButton)
    assert said == [] and not banner.refusal.isVisible()


def test_every_button_is_reached_with_the_keyboard_and_named(qtbot: Any) -> None:
    banner = banner_showing(qtbot)
    for button in banner.buttons():
        assert button.focusPolicy() & Qt.FocusPolicy.TabFocus
        assert button.accessibleName()
        assert "&" in button.text()  # an Alt shortcut
    assert banner.accessibleName() == "The speech model is missing"


def test_a_choice_is_made_once(qtbot: Any) -> None:
    banner = banner_showing(qtbot)
    said = chosen(banner)
    qtbot.mouseClick(banner.builtin_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(banner.builtin_button, Qt.MouseButton.LeftButton)  # while it is applied
    assert said == [BUILT_IN]
    assert not any(button.isEnabled() for button in banner.buttons())

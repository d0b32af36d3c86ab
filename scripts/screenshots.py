"""Take the README's screenshots: the main window in the middle of a conversation, the
settings dialog and the History dialog, drawn on a private X screen (Xvfb) and saved to
docs/screenshots/.

The window is driven by a real turn controller over the in-memory microphone, model and voice
of tests/support/memory.py, so what is shown is what the app shows, timings included.

    .venv/bin/python scripts/screenshots.py              # docs/screenshots/*.png
    .venv/bin/python scripts/screenshots.py --dark --scale 2 --out /tmp/shots   # to check
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:  # Qt and the app are imported once the X screen is up
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QWidget

    from assistant.config import Secrets
    from assistant.core.protocols import Recording, Transcript
    from assistant.core.turn import TurnController
    from assistant.providers.history_sqlite import SqliteHistory
    from assistant.ui.settings_actions import SettingsActions
    from tests.support.memory import MemoryChat, MemoryTranscriber

FIRST_QUESTION = "What's a good way to start learning the piano?"
FIRST_REPLY = (
    "Start with ten minutes a day. Learn where middle C is, then play simple scales with each "
    "hand. A beginner book or an app helps you read notes as you go."
)
SECOND_QUESTION = "Should I buy a keyboard or a real piano?"
SECOND_REPLY = (
    "A keyboard with weighted keys is a fine start. It costs less, fits anywhere, and you can "
    "practise with headphones. Move to a piano once you play every day."
)


def free_display() -> str:
    for number in range(90, 190):
        if not any(
            Path(p).exists() for p in (f"/tmp/.X11-unix/X{number}", f"/tmp/.X{number}-lock")
        ):
            return f":{number}"
    raise SystemExit("No free X display number between :90 and :189.")


@contextmanager
def x_screen() -> Iterator[str]:
    """A private Xvfb screen for as long as the block runs."""
    if shutil.which("Xvfb") is None:
        raise SystemExit("Xvfb is not installed: run `make setup` (it installs the xvfb package).")
    display = free_display()
    server = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", "1280x900x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):  # up to 5 s
            probe = subprocess.run(
                ["xwininfo", "-root", "-display", display], capture_output=True, check=False
            )
            if probe.returncode == 0:
                break
            if server.poll() is not None:
                raise SystemExit(f"Xvfb {display} did not start.")
            time.sleep(0.05)
        else:
            raise SystemExit(f"Xvfb {display} did not accept connections within 5 s.")
        yield display
    finally:
        server.terminate()
        server.wait(5)


async def take(out: Path, dark: bool) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from assistant.config import Settings
    from assistant.core.events import SentenceStarted, TurnFinished
    from assistant.ui.main_window import MainWindow
    from assistant.ui.settings_dialog import SettingsDialog

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    if dark:
        app.setPalette(dark_palette())
    controller, chat, transcriber = conversation_parts()
    window = MainWindow(controller)
    window.resize(680, 800)
    window.show()
    controller.start()
    await controller.wait_ready()

    finished: list[TurnFinished] = []
    spoken: list[int] = []
    controller.events.connect(lambda e: finished.append(e) if isinstance(e, TurnFinished) else None)
    controller.events.connect(
        lambda e: spoken.append(e.index) if isinstance(e, SentenceStarted) else None
    )
    chat.reply, transcriber.text = FIRST_REPLY, FIRST_QUESTION
    QTest.mousePress(window.talk, Qt.MouseButton.LeftButton)
    await asyncio.sleep(0.8)
    QTest.mouseRelease(window.talk, Qt.MouseButton.LeftButton)
    await until(lambda: finished)
    chat.reply = SECOND_REPLY
    spoken.clear()
    window.message.setText(SECOND_QUESTION)
    QTest.keyClick(window.message, Qt.Key.Key_Return)
    await until(lambda: 1 in spoken)  # the second sentence is being spoken
    await asyncio.sleep(0.3)  # let the glide to the end finish
    window.grab().save(str(out / "main-window.png"))

    dialog = SettingsDialog(Settings(), settings_secrets(), settings_actions(), parent=window)
    dialog.show()
    dialog.tabs.setCurrentIndex(dialog.pages.index(dialog.brain))
    QTest.mouseClick(dialog.brain.test_button, Qt.MouseButton.LeftButton)
    await dialog.tasks.wait()
    await asyncio.sleep(0.2)
    dialog.grab().save(str(out / "settings.png"))
    dialog.tabs.setCurrentIndex(dialog.pages.index(dialog.audio))
    await asyncio.sleep(0.2)
    dialog.grab().save(str(out / "settings-audio.png"))
    dialog.reject()
    await shoot_history(out, window)
    controller.stop()
    window.close()
    await controller.aclose()


# The History dialog's conversations, oldest first: (days ago, hour, what was said). The newest
# is the one the main window's screenshot shows; the bread's last reply was cut off.
CUT_OFF = "About twenty-five degrees is ideal. Put the dough near"
EARLIER = [
    (9, 18, [
        ("user", "How do I say good morning in French?"),
        ("assistant", "Bonjour. In the evening, say bonsoir."),
    ]),
    (1, 19, [
        ("user", "Why did my bread not rise?"),
        ("assistant", "The yeast may be old, or the kitchen too cold for it."),
        ("user", "How warm should the kitchen be?"),
        ("assistant", CUT_OFF),
    ]),
    (0, 0, [
        ("user", FIRST_QUESTION), ("assistant", FIRST_REPLY),
        ("user", SECOND_QUESTION), ("assistant", SECOND_REPLY),
    ]),
]  # fmt: skip


async def shoot_history(out: Path, window: QWidget) -> None:
    """The History dialog over a real history file holding three conversations."""
    from assistant.ui.history_dialog import HistoryActions, HistoryDialog

    with tempfile.TemporaryDirectory(prefix="history-") as folder:
        store, ids = stored_conversations(Path(folder))
        actions = HistoryActions(
            conversations=store.conversations,
            messages=store.messages,
            open_conversation=lambda conversation_id: None,
            delete_conversation=store.delete_conversation,
            delete_all=store.delete_all,
            shown_conversation=lambda: ids[-1],
        )
        dialog = HistoryDialog(actions, parent=window)
        dialog.refresh(row=1)  # the bread
        dialog.show()
        await asyncio.sleep(0.4)  # laid out, painted, the preview at its end
        dialog.grab().save(str(out / "history.png"))
        dialog.reject()
        store.close()


def stored_conversations(folder: Path) -> tuple[SqliteHistory, list[int]]:
    """EARLIER in a history file in `folder`, each dated as EARLIER says."""
    import sqlite3

    from assistant.providers.history_sqlite import FILE_NAME, SqliteHistory

    path = folder / FILE_NAME
    store = SqliteHistory(path)
    ids = []
    for days_ago, hour, said in EARLIER:
        conversation = store.new_conversation()
        for role, text in said:
            message = store.add_message(conversation, role, text, "writing")  # type: ignore[arg-type]
            if text == CUT_OFF:
                store.finish_message(message, text, "interrupted", heard=text.split(".")[0] + ".")
            else:
                store.finish_message(message, text, "complete")
        ids.append(conversation)
        if days_ago:  # the store dates everything 'now'
            day = time.localtime(time.time() - days_ago * 86_400)
            then = time.mktime((*day[:3], hour, 12, 0, 0, 0, -1))
            with closing(sqlite3.connect(path)) as db, db:
                db.execute(
                    "UPDATE conversations SET started = ?, updated = ? WHERE id = ?",
                    (then, then + 240, conversation),
                )
                db.execute(
                    "UPDATE messages SET created = ? WHERE conversation_id = ?",
                    (then, conversation),
                )
    return store, ids


def conversation_parts() -> tuple[TurnController, MemoryChat, MemoryTranscriber]:
    """A real controller over in-memory parts that take about as long as real ones do."""
    from assistant.core.conversation import Conversation
    from assistant.core.reply_speaker import ReplySpeaker
    from assistant.core.turn import TurnController
    from tests.support.memory import (
        Counter,
        MemoryChat,
        MemoryInput,
        MemoryOutput,
        MemorySynthesizer,
        MemoryTranscriber,
    )

    class Transcriber(MemoryTranscriber):
        async def transcribe(self, recording: Recording) -> Transcript:
            await asyncio.sleep(0.32)  # tiny.en on two cores, for a short question
            return await super().transcribe(recording)

    chat = MemoryChat(step=4, delay=0.025)
    transcriber = Transcriber()
    controller = TurnController(
        microphone=MemoryInput(),
        transcriber=transcriber,
        chat=chat,
        speaker=ReplySpeaker(
            MemorySynthesizer(delay=lambda text: 0.14), MemoryOutput(time_scale=30.0)
        ),
        conversation=Conversation("", 10_000),
        connections=Counter(),
    )
    return controller, chat, transcriber


def settings_secrets() -> Secrets:
    from assistant.config import Secrets

    return Secrets(llm_api_key="sk-not-shown")


def settings_actions() -> SettingsActions:
    from assistant.providers.llm.openai_chat import PRESETS
    from assistant.ui.settings_actions import AudioDevice, SettingsActions

    async def fine(*args: object) -> None:
        await asyncio.sleep(0.05)

    async def devices() -> list[AudioDevice]:
        return [
            AudioDevice("Built-in Microphone", True, False),
            AudioDevice("Speakers", False, True),
        ]

    return SettingsActions(
        save_settings=lambda settings: None,
        store_secret=lambda name, value: None,
        delete_secret=lambda name: None,
        test_brain=fine,
        test_voice=fine,
        test_microphone=fine,
        test_speaker=fine,
        list_devices=devices,
        brain_presets=dict(PRESETS),
    )


def dark_palette() -> QPalette:
    from PySide6.QtGui import QColor, QPalette

    palette = QPalette()
    role = QPalette.ColorRole
    for which, colour in (
        (role.Window, "#2b2b2b"), (role.WindowText, "#e6e6e6"), (role.Base, "#1e1e1e"),
        (role.AlternateBase, "#2b2b2b"), (role.Text, "#e6e6e6"), (role.Button, "#353535"),
        (role.ButtonText, "#e6e6e6"), (role.Highlight, "#3d7bd9"),
        (role.HighlightedText, "#ffffff"), (role.Mid, "#555555"),
        (role.PlaceholderText, "#8a8a8a"),
    ):  # fmt: skip
        palette.setColor(which, QColor(colour))
    return palette


async def until(condition: Callable[[], object], seconds: float = 30.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise SystemExit("The conversation did not get as far as the screenshot needs.")


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    options.add_argument("--dark", action="store_true", help="a dark palette (to check themes)")
    options.add_argument("--scale", default="1", help="QT_SCALE_FACTOR (to check high DPI)")
    args = options.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with x_screen() as display, tempfile.TemporaryDirectory(prefix="screenshots-") as home:
        os.environ.update(
            DISPLAY=display,
            QT_QPA_PLATFORM="xcb",
            QT_SCALE_FACTOR=args.scale,
            XDG_RUNTIME_DIR=home,
            XDG_CONFIG_HOME=home,  # nothing of the real user's is read or written
        )
        from PySide6.QtWidgets import QApplication

        from assistant.ui.event_loop import AppEventLoop

        app = QApplication([sys.argv[0]])
        app.setStyle("Fusion")
        app.setQuitOnLastWindowClosed(False)  # closing the window must not stop the loop first
        with asyncio.Runner(loop_factory=lambda: AppEventLoop(app)) as runner:
            runner.run(take(args.out, args.dark))
    for name in ("main-window.png", "settings.png", "settings-audio.png", "history.png"):
        print(args.out / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

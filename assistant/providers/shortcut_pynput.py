"""The global talk shortcut through pynput: X11, Windows and macOS (not Wayland, where a desktop
lets no application see keys typed in other windows; `unavailable_reason` says what works there).

pynput calls back on its own listener thread. That thread only matches the chord and hands the
press or release to the event loop; a watchdog on the loop starts a new listener if the thread
ever dies, so the shortcut does not silently stop working after a while (whisper-writer #44).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from assistant.core.shortcut import Chord, ChordMatcher, ShortcutUnavailable

log = logging.getLogger(__name__)

WATCH_INTERVAL = 2.0  # seconds between checks that the listener thread is still alive
READY_TIMEOUT = 3.0  # how long start() waits for the listener to see the keyboard
_STOP_TIMEOUT = 1.0

_INSTEAD = "Use Talk in the tray menu, or hold Space while the assistant's window has focus."
WAYLAND_REASON = (
    "This Wayland desktop does not let applications see keys pressed in other windows, so the "
    f"global talk shortcut is off. {_INSTEAD} To get the shortcut, choose an X11 (Xorg) session "
    "on the login screen."
)
NO_DISPLAY_REASON = (
    "There is no X11 display (DISPLAY is not set), so the global talk shortcut is off. " + _INSTEAD
)
NOT_WATCHED_REASON = (
    "The desktop did not let the assistant watch the keyboard, so the global talk shortcut is "
    "off. " + _INSTEAD
)
MACOS_REASON = (
    "macOS has not allowed the assistant to watch the keyboard, so the global talk shortcut is "
    "off. Allow it in System Settings > Privacy & Security > Accessibility and Input Monitoring, "
    "then start the assistant again."
)

# pynput's names for the two sides of a modifier, and the one name a chord uses.
_MODIFIER_NAMES = {
    "ctrl": "ctrl",
    "ctrl_l": "ctrl",
    "ctrl_r": "ctrl",
    "alt": "alt",
    "alt_l": "alt",
    "alt_r": "alt",
    "shift": "shift",
    "shift_l": "shift",
    "shift_r": "shift",
    "cmd": "super",
    "cmd_l": "super",
    "cmd_r": "super",
}
# X11 names Alt "Meta" when it goes down after Shift; it is the same key.
_X11_META_KEYSYMS = {0xFFE7: "alt", 0xFFE8: "alt"}


def unavailable_reason(
    environ: Mapping[str, str] | None = None, platform: str | None = None
) -> str | None:
    """Why this desktop cannot have this shortcut, said for the Settings page; None if it can."""
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if platform in ("win32", "darwin"):
        return None
    wayland = environ.get("XDG_SESSION_TYPE", "").lower() == "wayland" or (
        bool(environ.get("WAYLAND_DISPLAY")) and not environ.get("DISPLAY")
    )
    if wayland:
        return WAYLAND_REASON
    if not environ.get("DISPLAY"):
        return NO_DISPLAY_REASON
    return None


def key_name(key: Any) -> str:
    """A pynput key as a chord names it: "ctrl", "space", "f9", "a"."""
    if key is None:
        return "unknown"
    name = getattr(key, "name", None)  # a pynput.keyboard.Key member
    if isinstance(name, str):
        return _MODIFIER_NAMES.get(name, name)
    char = getattr(key, "char", None)
    if isinstance(char, str) and char:
        return char.lower()
    vk = getattr(key, "vk", None)
    return _X11_META_KEYSYMS.get(vk, f"vk{vk}") if isinstance(vk, int) else "unknown"


@dataclass(frozen=True, slots=True)
class _Binding:
    chord: Chord
    on_press: Callable[[], None]
    on_release: Callable[[], None]


class PynputShortcut:
    """A `GlobalShortcut` for X11, Windows and macOS. Use it from the event loop's thread."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        environ: Mapping[str, str] | None = None,
        platform: str | None = None,
        watch_interval: float = WATCH_INTERVAL,
    ) -> None:
        self._loop = loop
        self._environ = environ
        self._platform = platform
        self._watch_interval = watch_interval
        self._binding: _Binding | None = None
        self._listener: Any = None
        self._generation = 0  # events from an older listener carry an older number and are dropped
        self._held = False  # a press was delivered and its release not yet
        self._watch: asyncio.TimerHandle | None = None
        self.restarts = 0  # listeners started again after theirs died

    def start(
        self, chord: Chord, on_press: Callable[[], None], on_release: Callable[[], None]
    ) -> None:
        reason = unavailable_reason(self._environ, self._platform)
        if reason is not None:
            raise ShortcutUnavailable(reason)
        self.stop()  # rebinding replaces the listener: the old chord can no longer fire
        self._binding = _Binding(chord, on_press, on_release)
        try:
            self._listen()
        except ShortcutUnavailable:
            self._binding = None
            raise
        self._watch = self._loop.call_later(self._watch_interval, self._check_listener)

    def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        self._generation += 1
        self._end_listener()
        self._let_go()
        self._binding = None

    @property
    def listening(self) -> bool:
        return self._listener is not None and self._listener.is_alive()

    def _listen(self) -> None:
        assert self._binding is not None
        keyboard = _pynput_keyboard()
        self._generation += 1
        generation = self._generation
        matcher = ChordMatcher(self._binding.chord)

        def on_press(key: Any, injected: bool = False) -> None:
            self._on_key(generation, matcher, key, down=True)

        def on_release(key: Any, injected: bool = False) -> None:
            self._on_key(generation, matcher, key, down=False)

        listener = keyboard.Listener(on_press=on_press, on_release=on_release)
        listener.start()
        self._listener = listener
        if not _wait_ready(listener, READY_TIMEOUT):
            self._end_listener()
            raise ShortcutUnavailable(NOT_WATCHED_REASON)
        if getattr(listener, "IS_TRUSTED", True) is False:  # macOS without the permission
            self._end_listener()
            raise ShortcutUnavailable(MACOS_REASON)

    def _on_key(self, generation: int, matcher: ChordMatcher, key: Any, *, down: bool) -> None:
        """On the listener thread: match, and hand only the chord's press or release to the loop.
        It never raises, since pynput ends its listener on a callback's exception."""
        try:
            name = key_name(key)
            if matcher.key_down(name) if down else matcher.key_up(name):
                self._loop.call_soon_threadsafe(self._deliver, generation, down)
        except RuntimeError:
            pass  # the loop is closed: the app is quitting
        except Exception:
            log.exception("The talk shortcut could not handle a key")

    def _deliver(self, generation: int, pressed: bool) -> None:
        if generation != self._generation or self._binding is None:
            return  # from a listener that was stopped or replaced since
        if pressed and not self._held:
            self._held = True
            self._binding.on_press()
        elif not pressed:
            self._let_go()

    def _let_go(self) -> None:
        if self._held and self._binding is not None:
            self._held = False
            self._binding.on_release()

    def _check_listener(self) -> None:
        self._watch = None
        if self._binding is None:
            return
        if not self.listening:
            log.warning("The talk shortcut's key listener stopped; starting it again")
            self._end_listener()
            self._let_go()  # its release may never come
            try:
                self._listen()
                self.restarts += 1
            except ShortcutUnavailable as error:
                log.warning("The talk shortcut could not be restarted: %s", error)
        self._watch = self._loop.call_later(self._watch_interval, self._check_listener)

    def _end_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is None:
            return
        listener.stop()
        _disable_x11_recording(listener)
        try:
            listener.join(_STOP_TIMEOUT)
        except Exception:  # join re-raises what ended the thread; it is over either way
            log.warning("The talk shortcut's key listener had failed", exc_info=True)
        if listener.is_alive():
            log.warning("The talk shortcut's key listener did not stop within %s s", _STOP_TIMEOUT)


def _pynput_keyboard() -> Any:
    """pynput's keyboard module, imported only when needed: on X11 the import itself connects to
    the display, and fails without one."""
    try:
        from pynput import keyboard  # type: ignore[import-untyped]
    except ImportError as error:
        log.warning("pynput cannot watch the keyboard: %s", error)
        raise ShortcutUnavailable(NOT_WATCHED_REASON) from error
    return keyboard


def _wait_ready(listener: Any, timeout: float) -> bool:
    """pynput's own wait() has no timeout and never returns if the thread dies while starting."""
    deadline = time.monotonic() + timeout
    while not getattr(listener, "_ready", True):
        if not listener.is_alive() or time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return bool(listener.is_alive())


def _disable_x11_recording(listener: Any) -> None:
    """pynput 1.8.2 disables its X11 recording on the connection that is blocked reading it, so
    the thread lingers until the next key anywhere (pynput pull request #583). Disabling it on
    the control connection, as the X RECORD protocol expects, ends the thread at once."""
    control = getattr(listener, "_display_stop", None)
    context = getattr(listener, "_context", None)
    if control is None or context is None:
        return  # not the X11 backend
    try:
        control.record_disable_context(context)
        control.flush()
    except Exception:  # the display may already be closed by the ending thread
        log.debug("X11 recording was already off", exc_info=True)

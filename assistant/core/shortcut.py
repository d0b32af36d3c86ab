"""The global push-to-talk shortcut: the chord a person chose, the exact-match rule that decides
when it is pressed and let go, and the small interface a system-wide key listener implements.

Exact matching (the chord's keys and no others) avoids the field's classic bug where any
Ctrl+Shift+key fires a Ctrl+Shift+Space shortcut (whisper-writer #90).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from assistant.core.errors import AssistantError, ConfigError

ShortcutMode = Literal["hold", "toggle"]  # hold to talk, or press once to start and once to send

DEFAULT_TALK_CHORD = "ctrl+alt+space"
DEFAULT_SHORTCUT_MODE: ShortcutMode = "hold"

# Written order of the modifiers, and the other spellings people and toolkits use for them.
MODIFIERS = ("ctrl", "alt", "shift", "super")
_MODIFIER_ALIASES = {
    "control": "ctrl",
    "ctl": "ctrl",
    "option": "alt",
    "meta": "super",
    "win": "super",
    "windows": "super",
    "cmd": "super",
    "command": "super",
}
# How a key's name is shown, where a plain capital letter would read wrongly.
_LABELS = {"super": "Super", "page_up": "Page Up", "page_down": "Page Down", "esc": "Esc"}


class ShortcutUnavailable(AssistantError):
    """This desktop does not let the app see keys pressed in other windows; the message says what
    works instead."""


@dataclass(frozen=True, slots=True)
class Chord:
    """Some modifiers and one key, e.g. Ctrl+Alt+Space. Names are lower case: `ctrl`, `alt`,
    `shift`, `super`, and a key such as `space`, `f9` or `a`."""

    modifiers: frozenset[str]
    key: str

    @classmethod
    def parse(cls, text: str) -> Chord:
        """Read a chord as written in the settings file, e.g. "ctrl+alt+space"."""
        parts = [part.strip().lower() for part in text.split("+")]
        if not text.strip() or any(not part for part in parts):
            raise ConfigError(
                f'The talk shortcut "{text}" is not a key combination. Write it like '
                f'"{DEFAULT_TALK_CHORD}", or record it again in Settings.'
            )
        *modifier_names, key = parts
        modifiers = {_MODIFIER_ALIASES.get(name, name) for name in modifier_names}
        unknown = sorted(modifiers - set(MODIFIERS))
        if unknown:
            raise ConfigError(
                f'The talk shortcut "{text}" uses "{unknown[0]}" as a modifier; only '
                f"{', '.join(MODIFIERS)} can come before the last key. Record it again in Settings."
            )
        key = _MODIFIER_ALIASES.get(key, key)
        if key in MODIFIERS:
            raise ConfigError(
                f'The talk shortcut "{text}" ends with a modifier. Add an ordinary key, e.g. '
                f'"{DEFAULT_TALK_CHORD}".'
            )
        if not modifiers and not _is_function_key(key):
            raise ConfigError(
                f'The talk shortcut "{text}" is a single key, which would fire while you type '
                "elsewhere. Add Ctrl, Alt or Super, or use a function key (F1 to F24)."
            )
        return cls(frozenset(modifiers), key)

    @property
    def keys(self) -> frozenset[str]:
        return self.modifiers | {self.key}

    def __str__(self) -> str:
        """The settings file's spelling, modifiers in a fixed order: "ctrl+alt+space"."""
        return "+".join([name for name in MODIFIERS if name in self.modifiers] + [self.key])

    @property
    def label(self) -> str:
        """How the window names it: "Ctrl+Alt+Space"."""
        return "+".join(_label(name) for name in str(self).split("+"))


def _is_function_key(key: str) -> bool:
    return key[:1] == "f" and key[1:].isdigit() and 1 <= int(key[1:]) <= 24


def _label(name: str) -> str:
    if name in _LABELS:
        return _LABELS[name]
    if _is_function_key(name):
        return name.upper()
    return name.replace("_", " ").title() if len(name) > 1 else name.upper()


class ChordMatcher:
    """Follows which keys are down and says when the chord starts and ends being held.

    The chord is pressed when the keys down become exactly its keys, and let go when one of them
    comes up. Key repeat (the same key down again while held) is not a new press. A key that comes
    up without having gone down under that name (X11 names some keys by their shifted symbol, so
    Shift+1 goes down as "!" and may come up as "1") means the picture is stale: it starts afresh
    rather than blocking the chord for good, the way shortcuts "stop working after a while".
    """

    def __init__(self, chord: Chord) -> None:
        self.chord = chord
        self._down: set[str] = set()
        self.held = False

    def key_down(self, name: str) -> bool:
        """A key went down; True when this press completes the chord."""
        if name in self._down:
            return False  # key repeat
        self._down.add(name)
        if not self.held and self._down == self.chord.keys:
            self.held = True
            return True
        return False

    def key_up(self, name: str) -> bool:
        """A key came up; True when this lets go of the chord."""
        if name not in self._down:
            self._down.clear()
        else:
            self._down.discard(name)
            if name not in self.chord.keys:
                return False
        if self.held:
            self.held = False
            return True
        return False


class GlobalShortcut(Protocol):
    """A system-wide key listener for one chord, working while other applications have focus."""

    def start(
        self, chord: Chord, on_press: Callable[[], None], on_release: Callable[[], None]
    ) -> None:
        """Listen for `chord`; `on_press` and `on_release` run on the event loop. Calling it again
        replaces the chord and the callbacks (nothing of the old binding fires any more).
        Raises ShortcutUnavailable when this desktop cannot offer a global shortcut."""
        ...

    def stop(self) -> None:
        """Stop listening; a chord still held is let go first (`on_release` runs)."""
        ...

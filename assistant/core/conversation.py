"""What has been said so far, and the part of it the model is sent each turn.

The history sent is the system prompt, then the most recent turns that fit a character budget;
the newest user message always goes, and the history never opens with the assistant speaking.
A reply the user cut off is kept, marked, so the model knows it was not heard to the end; a
question that got no reply at all is not sent again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from assistant.core.protocols import Message

INTERRUPTED_MARKER = " …[interrupted]"


@dataclass(frozen=True, slots=True)
class Turn:
    """One thing said, as shown to the user."""

    role: Literal["user", "assistant"]
    text: str
    interrupted: bool = False  # an assistant reply cut off by the user (barge-in)

    @property
    def sent_text(self) -> str:
        """The text as the model is told it."""
        return (self.text + INTERRUPTED_MARKER).strip() if self.interrupted else self.text


class Conversation:
    """The turns of one conversation, and the messages for the next request."""

    def __init__(self, system_prompt: str, budget_chars: int) -> None:
        if budget_chars < 0:
            raise ValueError("budget_chars must not be negative")
        self.system_prompt = system_prompt
        self.budget_chars = budget_chars  # characters of history sent, the system prompt aside
        self._turns: list[Turn] = []

    @property
    def turns(self) -> tuple[Turn, ...]:
        return tuple(self._turns)

    def add_user(self, text: str) -> None:
        """Record what the user said; blank text is not a turn."""
        if text.strip():
            self._turns.append(Turn("user", text.strip()))

    def restate(self, text: str) -> None:
        """The user went on with their last question before it was answered: it reads `text`."""
        if self._turns and self._turns[-1].role == "user" and text.strip():
            self._turns[-1] = Turn("user", text.strip())
        else:
            self.add_user(text)

    def add_assistant(self, text: str, interrupted: bool = False) -> None:
        """Record the reply, or the part of it heard before the user cut it off."""
        if text.strip() or interrupted:
            self._turns.append(Turn("assistant", text.strip(), interrupted))

    def clear(self) -> None:
        self._turns.clear()

    def messages(self) -> list[Message]:
        """The system prompt, then the newest turns within the budget."""
        history = _merged(self._turns)
        kept = history[self._first_kept(history) :]
        while kept and kept[0].role == "assistant":
            kept = kept[1:]
        system = [Message("system", self.system_prompt)] if self.system_prompt else []
        return system + kept

    def _first_kept(self, history: list[Message]) -> int:
        """The index of the oldest message sent: everything from the newest user message on,
        then older messages while the budget lasts."""
        last_user = max(
            (i for i, message in enumerate(history) if message.role == "user"),
            default=len(history),
        )
        used = sum(len(message.content) for message in history[last_user:])
        first = last_user
        while first > 0 and used + len(history[first - 1].content) <= self.budget_chars:
            first -= 1
            used += len(history[first].content)
        return first


def _merged(turns: list[Turn]) -> list[Message]:
    """Turns as messages. A question followed by another one got no reply at all (it failed, or
    was cut off before the first word): it is not sent again, so the model answers what the user
    asks now, never two questions glued into one message the user never wrote. Two replies in a
    row (a resumed conversation can hold them) are joined: some chat templates refuse two
    messages of one role running."""
    messages: list[Message] = []
    for turn in turns:
        if messages and messages[-1].role == turn.role == "user":
            messages[-1] = Message("user", turn.sent_text)
        elif messages and messages[-1].role == turn.role:
            joined = f"{messages[-1].content}\n\n{turn.sent_text}"
            messages[-1] = Message(turn.role, joined)
        else:
            messages.append(Message(turn.role, turn.sent_text))
    return messages


__all__ = ["INTERRUPTED_MARKER", "Conversation", "Turn"]

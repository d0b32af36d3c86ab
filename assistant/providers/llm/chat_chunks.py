"""What one chunk of an OpenAI-compatible chat stream carries, read leniently (servers differ),
and what a whole reply carried (`ReplySeen`), to tell why it had no text or was cut short.

- `delta.content` as a string (the usual), or as a list of parts
  (`[{"type": "text", "text": ...}]`);
- `delta.reasoning_content` (DeepSeek-R1) or `delta.reasoning` (Ollama, vLLM): the model thinking
  aloud before it answers. It is deliberately neither shown nor spoken (a listener wants the
  answer, and the reasoning of a small model can run for minutes); it is counted, so a reply
  that was all reasoning and no answer is told as such;
- `delta.tool_calls`: the assistant offers no tools, so a reply that only calls one has no answer;
- `finish_reason`: "length" and "content_filter" mean the answer was cut, which the user is told;
- a whole completion (`message.content`) from a server that ignored `stream: true`;
- `{"error": ...}` inside the stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assistant.providers.http.vendor import readable


@dataclass
class ChunkContent:
    """The parts of one chunk (or whole completion) that matter to the assistant."""

    text: str = ""
    reasoning: str = ""
    tool_calls: bool = False
    finish_reason: str = ""


def read_chunk(chunk: dict[str, Any]) -> ChunkContent:
    """The first choice of a streamed chunk or of a whole completion; a chunk without choices
    (a usage report, say) is empty."""
    for choice in chunk.get("choices") or ():
        if not isinstance(choice, dict) or choice.get("index", 0) != 0:
            continue
        part = choice.get("delta")
        if not isinstance(part, dict):
            part = choice.get("message")
        part = part if isinstance(part, dict) else {}
        reasoning = part.get("reasoning_content") or part.get("reasoning")
        return ChunkContent(
            text=_text_of(part.get("content")),
            reasoning=reasoning if isinstance(reasoning, str) else "",
            tool_calls=bool(part.get("tool_calls") or part.get("function_call")),
            finish_reason=str(choice.get("finish_reason") or ""),
        )
    return ChunkContent()


def _text_of(content: object) -> str:
    """`content` as text (a string, or the text parts of a list of parts), without the control
    characters nobody types (an escape sequence in a reply would drive the terminal)."""
    if isinstance(content, str):
        return readable(content)
    if isinstance(content, list):
        return readable(
            "".join(
                str(part.get("text") or "")
                for part in content
                if isinstance(part, dict) and part.get("type", "text") in ("text", "output_text")
            )
        )
    return ""


@dataclass
class ReplySeen:
    """What one reply's stream carried so far, to say why it had no text or was cut."""

    written: int = 0  # characters of text
    events: int = 0
    reasoning: int = 0  # characters of reasoning, neither shown nor spoken
    tool_calls: bool = False
    finish_reason: str = ""
    head: bytes = b""  # the body's first bytes

    def note(self, content: ChunkContent) -> None:
        self.written += len(content.text)
        self.reasoning += len(content.reasoning)
        self.tool_calls = self.tool_calls or content.tool_calls
        self.finish_reason = content.finish_reason or self.finish_reason


CUT_REASONS = ("length", "content_filter")


def cut_words(finish_reason: str, *, before_any_text: bool = False) -> str:
    """Why a reply ended early (`finish_reason` in CUT_REASONS), and what to do."""
    if finish_reason == "content_filter":
        return "The chat service's content filter stopped the answer, so it is cut off."
    if before_any_text:
        return (
            "The model reached its length limit before it wrote any answer. Ask for a shorter "
            "answer, or raise the model's output limit on the server."
        )
    return (
        "The answer is cut off: the model reached its length limit. Ask for a shorter answer, "
        "or raise the model's output limit on the server."
    )


__all__ = ["CUT_REASONS", "ChunkContent", "ReplySeen", "cut_words", "read_chunk"]

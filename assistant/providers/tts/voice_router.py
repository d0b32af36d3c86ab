"""Each piece of a reply spoken by a voice that reads its language (issue 18): one voice per
language plus the main one, behind the one `Synthesizer` the reply speaker knows, so the speaker,
the splitter and the turn do not change.

A piece's language comes from its script (`core/text_language.py`: any Chinese character makes it
Chinese; Latin text is in the reply's language). It goes to the voice chosen for that language,
else to the main voice if that one speaks it, else to any configured voice that does (Volcano
speaks Chinese and English). With none, it is not spoken: its text stays on screen, and a notice
says once per reply which language has no voice and where to get one. So the English Piper voice
never gets a Chinese piece to spell out. Audio comes out at the main voice's rate; the others'
is converted by a resampler handed in (this layer may not import `assistant.audio`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from assistant.core.events import Event, Notice, Signal, TurnFinished, UserSaid
from assistant.core.languages import language_name
from assistant.core.protocols import AudioChunk, Synthesizer
from assistant.core.text_language import piece_language

log = logging.getLogger(__name__)

__all__ = ["NO_VOICE", "ChunkResampler", "LanguageVoice", "VoiceRouter"]

NO_VOICE = (
    "No voice here speaks {language}, so what the reply says in it is shown but not spoken. "
    "Download a voice for it in Settings > Voice (Piper voices, offline), or choose a cloud "
    "voice that speaks it there (Volcano speaks Chinese and English)."
)


class ChunkResampler(Protocol):
    """Converts one piece's PCM, chunk by chunk, to another rate (`audio.resample.Resampler`)."""

    def process(self, pcm: bytes) -> bytes: ...

    def flush(self) -> bytes: ...


ResamplerFactory = Callable[[int, int], ChunkResampler]  # (from_rate, to_rate)


@dataclass(frozen=True)
class LanguageVoice:
    """A voice and the languages it reads: a Piper voice reads its own; None means every
    language (a cloud voice such as OpenAI's)."""

    synthesizer: Synthesizer
    languages: frozenset[str] | None
    name: str = ""  # for the log: "piper en_US-joe-medium", "volcano"

    def speaks(self, language: str) -> bool:
        return self.languages is None or language in self.languages


class VoiceRouter:
    """A `Synthesizer` that hands each piece to the voice for its language."""

    def __init__(
        self,
        main: LanguageVoice,
        chosen: Mapping[str, LanguageVoice],
        resampler: ResamplerFactory,
        *,
        report: Callable[[str], None] | None = None,
    ) -> None:
        """`main` speaks what no chosen voice is for; `chosen` maps a language code to the voice
        the user picked for it; `report` shows a notice to the user (see `attach`)."""
        self.main = main
        self.chosen = dict(chosen)
        self.sample_rate = main.synthesizer.sample_rate
        voices = self.voices()
        self.max_text_bytes = min(voice.synthesizer.max_text_bytes for voice in voices)
        self.reply_language: str | None = None  # what the user last spoke; None: not known
        self._resampler = resampler
        self._report = report
        self._said: set[str] = set()  # languages whose missing voice this reply already told

    def voices(self) -> list[LanguageVoice]:
        """Every distinct voice, the main one first."""
        found: dict[int, LanguageVoice] = {id(self.main.synthesizer): self.main}
        for voice in self.chosen.values():
            found.setdefault(id(voice.synthesizer), voice)
        return list(found.values())

    def voice_for(self, language: str) -> LanguageVoice | None:
        """The chosen voice, else the main one if it speaks `language`, else any that does;
        never one that does not (a voice chosen for a language it cannot read is passed over)."""
        chosen = self.chosen.get(language)
        if chosen is not None and chosen.speaks(language):
            return chosen
        return next((voice for voice in self.voices() if voice.speaks(language)), None)

    def attach(self, events: Signal[Event]) -> None:
        """Follow the turns on `events`: Latin text is taken to be in the language the user last
        spoke, a new reply may tell a missing voice again, and notices go out there."""
        self._report = lambda message: events.emit(Notice(message))
        events.connect(self._on_event)

    def new_reply(self) -> None:
        """A new reply begins: a language without a voice is told again."""
        self._said.clear()

    def _on_event(self, event: Event) -> None:
        if isinstance(event, UserSaid) and event.language:
            self.reply_language = event.language
        elif isinstance(event, TurnFinished):
            self.new_reply()

    async def warm_up(self) -> None:
        await asyncio.gather(*(voice.synthesizer.warm_up() for voice in self.voices()))

    async def synthesize(self, text: str) -> AsyncGenerator[AudioChunk, None]:
        language = piece_language(text, self.reply_language)
        voice = self.voice_for(language)
        if voice is None:
            self._tell_missing(language)
            return
        converter: ChunkResampler | None = None
        async for chunk in voice.synthesizer.synthesize(text):
            if chunk.sample_rate == self.sample_rate:
                yield chunk
                continue
            if converter is None:
                converter = self._resampler(chunk.sample_rate, self.sample_rate)
            if pcm := converter.process(chunk.pcm):
                yield AudioChunk(pcm, self.sample_rate)
        if converter is not None and (tail := converter.flush()):
            yield AudioChunk(tail, self.sample_rate)

    def _tell_missing(self, language: str) -> None:
        if language in self._said:
            return
        self._said.add(language)
        name = language_name(language)
        shown = name if name == language else f"{name} ({language})"
        message = NO_VOICE.format(language=shown)
        log.warning("a piece in %s was not spoken: no voice speaks it", language)
        if self._report is not None:
            self._report(message)

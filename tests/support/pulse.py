"""The virtual sound card for tests: a private PulseAudio whose null sink is the default output and
whose monitor is the default input, so what is played into the sink is what the app's microphone
hears, and what the app plays can be recorded back, sample for sample.

Everything lives in one temporary folder (socket, cookie, state, logs); nothing touches $HOME. One
`parec --latency-msec=10` reader stays on the monitor for the whole session: it keeps the null sink
rendering in 10 ms steps instead of 2-second blocks, and it is also the recorder. The sink does not
rewind: a rewind re-renders sound the monitor already delivered, so a stream's first milliseconds
went missing from recordings, and PortAudio streams with short buffers lost whole stretches.
Clips are decoded by sox before paplay plays them (its libsndfile misreads 24-bit FLAC).

`speakerphone()` (or the `speakerphone` fixture) turns it into a room for hands-free tests: the
app's output reaches the microphone attenuated and delayed (an echo), mixed with a "user" sink that
tests play the user's clips into:

    app ─► SINK ─(loopback, echo_delay_ms, echo_gain_db)─┐
                                                         ├─► ROOM sink ─► ROOM.monitor = microphone
    play_user() ─► USER sink ─(loopback, ~20 ms, 0 dB)───┘

SINK's own monitor is still recorded (what the app played, exactly), and the room's monitor has a
recorder of its own (what the microphone heard). The loopbacks run with `adjust_time=0`: PulseAudio
16's rate controller does not settle between null sinks, so their delay would drift.
"""

from __future__ import annotations

import asyncio
import ctypes
import fcntl
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import wave
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import numpy as np
import pytest
import soxr

from tests.support.environment import environment

SINK = "assistant_test_speaker"
USER_SINK = "assistant_test_user"  # the speakerphone's user: test clips are played into it
ROOM_SINK = "assistant_test_room"  # the speakerphone's air: echo + user; its monitor is the mic
USER_DELAY_MS = 20  # the user's path into the room: short, and its delay does not matter
SINK_RATE = 48_000  # what a real card runs at; clients at other rates are resampled by PulseAudio
RECORD_RATE = 48_000  # recordings of the monitor: int16 mono at this rate, no resampling
_PROMPT_READS = 10  # this many small reads in a row: the sink renders in small steps now
_PR_SET_PDEATHSIG = 1  # Linux prctl
_F_SETPIPE_SZ = 1031  # Linux fcntl: a 1 MB pipe lets the reader fall behind for 10 s, not 0.3 s
_TOOLS = ("pulseaudio", "pactl", "parec", "paplay", "sox")
_PGREP = shutil.which("pgrep") or "/usr/bin/pgrep"  # found once: tests may change PATH


def _die_with_parent() -> None:
    """In the daemon, before exec: get SIGTERM if the test process dies without its teardown
    (killed by a timeout), so no daemon outlives the run."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class RigError(Exception):
    """The virtual sound card could not start, or did not stop cleanly."""


class Recorder:
    """What the null sink played from the moment it was created: int16 mono at `rate`."""

    def __init__(self, reader: _MonitorReader, first_index: int) -> None:
        self.rate = RECORD_RATE
        self._reader = reader
        self._first = first_index  # the reader's running sample count when recording began
        self._parts: list[bytes] = []
        self._count = 0

    @property
    def seconds(self) -> float:
        return self._count / self.rate

    def _append(self, start: int, data: bytes) -> None:  # on the reader thread, under its lock
        skip = max(0, self._first - start) * 2
        if skip < len(data):
            self._parts.append(data[skip:])
            self._count += (len(data) - skip) // 2

    def wait(self, seconds: float, timeout: float | None = None) -> None:
        """Block until `seconds` of sound were recorded (for tests that are not async)."""
        limit = timeout if timeout is not None else seconds + 5.0
        with self._reader.arrived:
            done = self._reader.arrived.wait_for(
                lambda: self._count >= seconds * self.rate or not self._reader.alive, limit
            )
        if not done or self._count < seconds * self.rate:
            raise RigError(f"recorded {self.seconds:.2f} s of the monitor, wanted {seconds:.2f} s")

    def samples(self) -> np.ndarray:
        """What was recorded so far, without stopping."""
        with self._reader.arrived:
            data = b"".join(self._parts)
        return np.frombuffer(data, dtype=np.int16).copy()

    def stop(self) -> np.ndarray:
        self._reader.detach(self)
        return self.samples()

    def time_at(self, index: int | float) -> float:
        """The time.monotonic() at which the null sink played sample `index` of this recording,
        to within its 10 ms rendering step (from the promptest delivery seen on the monitor)."""
        return self._reader.offset + (self._first + index) / self.rate

    def index_at(self, moment: float) -> int:
        """The sample of this recording that the sink played at time.monotonic() `moment`."""
        return round((moment - self._reader.offset) * self.rate) - self._first


class _MonitorReader:
    """One `parec` on the sink's monitor and the thread that reads it."""

    def __init__(self, env: dict[str, str], server: str, source: str) -> None:
        self.arrived = threading.Condition()
        self.total = 0  # samples received since parec started
        self.offset = float("inf")  # min over reads of (arrival time - samples so far / rate)
        self.alive = True
        self._recorders: list[Recorder] = []
        self._small_reads = 0
        self.prompt = threading.Event()
        self._proc = subprocess.Popen(
            [
                "parec",
                f"--server={server}",
                f"--device={source}",
                "--latency-msec=10",
                "--format=s16le",
                f"--rate={RECORD_RATE}",
                "--channels=1",
                "--raw",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert self._proc.stdout is not None
        self._fd = self._proc.stdout.fileno()
        with suppress(OSError):  # a smaller pipe only matters if the test process stalls long
            fcntl.fcntl(self._fd, _F_SETPIPE_SZ, 1 << 20)
        self._thread = threading.Thread(target=self._run, name="monitor-reader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        leftover = b""
        while True:
            try:
                data = os.read(self._fd, 1 << 16)
            except OSError:
                data = b""
            now = time.monotonic()
            if not data:
                break
            data = leftover + data
            whole = len(data) - len(data) % 2
            data, leftover = data[:whole], data[whole:]
            count = len(data) // 2
            with self.arrived:
                start = self.total
                self.total += count
                self.offset = min(self.offset, now - self.total / RECORD_RATE)
                for recorder in self._recorders:
                    recorder._append(start, data)
                # A warming sink delivers nothing, then a whole 2-second block at once.
                small = count <= RECORD_RATE * 0.03
                self._small_reads = self._small_reads + 1 if small else 0
                if self._small_reads >= _PROMPT_READS:
                    self.prompt.set()
                self.arrived.notify_all()
        with self.arrived:
            self.alive = False
            self.arrived.notify_all()

    def attach(self) -> Recorder:
        with self.arrived:
            recorder = Recorder(self, self.total)
            self._recorders.append(recorder)
        return recorder

    def detach(self, recorder: Recorder) -> None:
        with self.arrived:
            if recorder in self._recorders:
                self._recorders.remove(recorder)

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
        try:
            self._proc.wait(5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(5)
        self._thread.join(5)
        if self._proc.stdout is not None:
            self._proc.stdout.close()


class PlayingFile:
    """A clip being played into the null sink (the virtual microphone) by `paplay`."""

    def __init__(self, proc: subprocess.Popen[bytes], path: Path) -> None:
        self._proc = proc
        self.path = path
        self.started = time.monotonic()

    def wait(self, timeout: float = 60.0) -> None:
        """Block until the clip has been played."""
        try:
            code = self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise RigError(f"paplay {self.path.name} did not finish within {timeout} s") from None
        if code != 0:
            raise RigError(f"paplay {self.path.name} failed with exit code {code}")

    # Named like wait()'s, which tests already call it with; it bounds a thread, not a coroutine.
    async def finished(self, timeout: float = 60.0) -> None:  # noqa: ASYNC109
        """Wait (without blocking the event loop) until the clip has been played."""
        await asyncio.to_thread(self.wait, timeout)

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait(5)


class VirtualSoundCard:
    """A private PulseAudio with a null sink; `start()` it, use it, `stop()` it."""

    def __init__(self, folder: Path, *, resample_method: str = "speex-float-1") -> None:
        self.folder = folder
        self.resample_method = resample_method
        run = folder / "run"
        if len(str(run / "native")) > 100:  # a unix socket path must fit in 108 bytes
            run = Path(tempfile.mkdtemp(prefix="pulse-run-"))
        self._run_dir = run
        self.sink_name = SINK
        self.source_name = f"{SINK}.monitor"
        self.server = f"unix:{run / 'native'}"
        self.env: dict[str, str] = {
            "XDG_RUNTIME_DIR": str(run),
            "PULSE_RUNTIME_PATH": str(run / "pulse"),
            "PULSE_SERVER": self.server,
            "PULSE_COOKIE": str(folder / "cookie"),
            "PULSE_STATE_PATH": str(folder / "state"),
            "PULSE_CLIENTCONFIG": str(folder / "client.conf"),
        }
        self._daemon: subprocess.Popen[bytes] | None = None
        self._reader: _MonitorReader | None = None
        self._players: list[PlayingFile] = []
        self._log = folder / "pulseaudio.log"
        self._module: str | None = None

    # -- life cycle -----------------------------------------------------------------------------

    def start(self, *, warm_up_timeout: float = 10.0) -> None:
        missing = [tool for tool in _TOOLS if shutil.which(tool) is None]
        if missing:
            raise RigError(
                f"{', '.join(missing)} not installed (Debian packages pulseaudio, "
                "pulseaudio-utils, libasound2-plugins, sox): run `make test`, which installs them"
            )
        self._prepare_folder()
        script = self.folder / "startup.pa"
        script.write_text(
            f"load-module module-native-protocol-unix socket={self._run_dir / 'native'} "
            f"auth-anonymous=1 auth-cookie={self.folder / 'cookie'}\n"
            f"{self._sink_commands()}"
        )
        with self._log.open("wb") as log:
            self._daemon = subprocess.Popen(
                [
                    "pulseaudio",
                    "--daemonize=no",
                    "--system=false",
                    "--exit-idle-time=-1",
                    "--use-pid-file=no",
                    f"--resample-method={self.resample_method}",
                    "--log-target=stderr",
                    "-n",
                    f"--file={script}",
                ],
                env=self._daemon_env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,  # Ctrl-C reaches pytest, whose teardown stops it
                preexec_fn=_die_with_parent,
            )
        self._wait_for_server()
        self._module = self._find_sink_module()
        self._start_reader(warm_up_timeout)

    def stop(self) -> list[str]:
        """Stop the reader, any clip still playing and the daemon; return what was still running
        afterwards (killed too), which should be nothing."""
        for player in self._players:
            player.stop()
        self._players.clear()
        if self._reader is not None:
            self._reader.stop()
            self._reader = None
        if self._daemon is not None:
            if self._daemon.poll() is None:
                self._daemon.send_signal(signal.SIGTERM)  # SIGTERM lets it remove its files
            try:
                self._daemon.wait(5)
            except subprocess.TimeoutExpired:
                self._daemon.kill()
                self._daemon.wait(5)
            self._daemon = None
        leftovers = self.running_processes()
        for line in leftovers:
            with suppress(ProcessLookupError, ValueError):
                os.kill(int(line.split()[0]), signal.SIGKILL)
        if self._run_dir.parent != self.folder:
            shutil.rmtree(self._run_dir, ignore_errors=True)
        return leftovers

    def running_processes(self) -> list[str]:
        """Processes whose command line names this card's folders (`pgrep -af`)."""
        found: list[str] = []
        for folder in {self.folder, self._run_dir}:
            result = subprocess.run(
                [_PGREP, "-af", str(folder)], capture_output=True, text=True, check=False
            )
            found += [line for line in result.stdout.splitlines() if line.strip()]
        return sorted(set(found))

    # -- what tests use -------------------------------------------------------------------------

    def play_file(self, path: Path | str, *, sink: str | None = None) -> PlayingFile:
        """Start playing an audio file (anything sox reads) into the null sink, i.e. into the
        virtual microphone (or into `sink`); `.wait()` or `await .finished()` for the end."""
        path = Path(path)
        playable = self._as_wav(path)
        proc = subprocess.Popen(
            [
                "paplay",
                f"--server={self.server}",
                f"--device={sink or self.sink_name}",
                "--latency-msec=20",
                str(playable),
            ],
            env=self._client_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        player = PlayingFile(proc, path)
        self._players.append(player)
        return player

    def _as_wav(self, path: Path) -> Path:
        """The file as 16-bit WAV at its own rate and channels, decoded by sox: paplay's
        libsndfile misreads some FLAC files (24-bit fw_jfk.flac plays as noise)."""
        if not path.is_file():
            raise RigError(f"no such clip: {path}")
        converted = self.folder / "clips" / f"{path.stem}-{abs(hash(path.resolve()))}.wav"
        if not converted.exists():
            converted.parent.mkdir(exist_ok=True)
            result = subprocess.run(
                ["sox", str(path), "-b", "16", "-e", "signed-integer", str(converted)],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            if result.returncode != 0:
                raise RigError(f"sox could not convert {path.name}: {result.stderr.strip()}")
        return converted

    def play_pcm(self, samples: np.ndarray, rate: int, *, sink: str | None = None) -> PlayingFile:
        """Start playing int16 mono samples into the null sink (or into `sink`)."""
        path = self.folder / f"pcm-{len(self._players)}.wav"
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes(np.asarray(samples, dtype=np.int16).tobytes())
        return self.play_file(path, sink=sink)

    def start_recording(self) -> Recorder:
        """Record the monitor (what was played into the sink) from now on."""
        if self._reader is None or not self._reader.alive:
            raise RigError("the null sink is unloaded or its monitor reader died")
        return self._reader.attach()

    def record(self, seconds: float) -> np.ndarray:
        """Block for `seconds` and return what the sink played meanwhile (int16, RECORD_RATE)."""
        recorder = self.start_recording()
        try:
            recorder.wait(seconds)
        finally:
            samples = recorder.stop()
        return samples[: round(seconds * RECORD_RATE)]

    def speakerphone(
        self, *, echo_delay_ms: int = 60, echo_gain_db: float = -6.0, warm_up_timeout: float = 10.0
    ) -> Speakerphone:
        """Make the card a speakerphone (see the module's docstring) until `.close()`: the default
        input becomes the room's monitor. One at a time."""
        phone = Speakerphone(self, echo_delay_ms, echo_gain_db)
        try:
            phone.open(warm_up_timeout)
        except BaseException:
            phone.close()
            raise
        return phone

    def unload_sink(self) -> None:
        """Pull the sound card out: the null sink and its monitor vanish."""
        if self._reader is not None:
            self._reader.stop()
            self._reader = None
        if self._module is not None:
            self._pactl("unload-module", self._module)
            self._module = None

    def reload_sink(self, *, warm_up_timeout: float = 10.0) -> None:
        """Plug it back in, as the defaults again, rendering promptly."""
        if self._module is None:
            self._module = self._pactl("load-module", *self._sink_module_args()).strip()
            self._pactl("set-default-sink", self.sink_name)
            self._pactl("set-default-source", self.source_name)
        if self._reader is None:
            self._start_reader(warm_up_timeout)

    # -- helpers --------------------------------------------------------------------------------

    def _prepare_folder(self) -> None:
        for sub in (self.folder / "home", self.folder / "config", self.folder / "state"):
            sub.mkdir(parents=True, exist_ok=True)
        self._run_dir.mkdir(parents=True, exist_ok=True)
        self._run_dir.chmod(0o700)  # PulseAudio refuses a runtime folder others can read
        (self.folder / "client.conf").write_text("autospawn = no\n")

    def _client_env(self) -> dict[str, str]:
        return {**os.environ, **self.env}

    def _daemon_env(self) -> dict[str, str]:
        return {
            **self._client_env(),
            "HOME": str(self.folder / "home"),
            "XDG_CONFIG_HOME": str(self.folder / "config"),
            # Without a session bus it would try to launch one (a leftover process) under X.
            "DBUS_SESSION_BUS_ADDRESS": f"unix:path={self.folder / 'no-dbus'}",
        }

    def _sink_module_args(self) -> list[str]:
        return [
            "module-null-sink",
            f"sink_name={self.sink_name}",
            f"rate={SINK_RATE}",
            "channels=2",
            "norewinds=1",  # a rewind rewrites sound the monitor has already delivered
            "sink_properties=device.description=Assistant_test_speaker",
        ]

    def _sink_commands(self) -> str:
        return (
            f"load-module {' '.join(self._sink_module_args())}\n"
            f"set-default-sink {self.sink_name}\n"
            f"set-default-source {self.source_name}\n"
        )

    def _pactl(self, *args: str) -> str:
        result = subprocess.run(
            ["pactl", f"--server={self.server}", *args],
            env=self._client_env(),
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if result.returncode != 0:
            raise RigError(f"pactl {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    def _wait_for_server(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._daemon is not None
            if self._daemon.poll() is not None:
                raise RigError(f"pulseaudio exited at start-up:\n{self._log_tail()}")
            try:
                self._pactl("info")
                return
            except (RigError, subprocess.TimeoutExpired):
                time.sleep(0.05)
        raise RigError(f"pulseaudio did not answer within {timeout} s:\n{self._log_tail()}")

    def _find_sink_module(self) -> str:
        for line in self._pactl("list", "short", "modules").splitlines():
            fields = line.split("\t")
            if len(fields) > 2 and fields[1] == "module-null-sink" and self.sink_name in fields[2]:
                return fields[0]
        raise RigError("the null sink module is not loaded")

    def _start_reader(self, timeout: float) -> None:
        self._reader = _MonitorReader(self._client_env(), self.server, self.source_name)
        if not self._reader.prompt.wait(timeout):
            raise RigError(
                f"the null sink did not start rendering in small steps within {timeout} s"
            )

    def _log_tail(self) -> str:
        try:
            return "\n".join(self._log.read_text(errors="replace").splitlines()[-15:])
        except OSError:
            return "(no log)"


class Speakerphone:
    """The card as a room (VirtualSoundCard.speakerphone): the app's output comes back into the
    microphone as an echo, with whatever is played into the user sink."""

    def __init__(self, card: VirtualSoundCard, echo_delay_ms: int, echo_gain_db: float) -> None:
        self.card = card
        self.echo_delay_ms = echo_delay_ms
        self.echo_gain_db = echo_gain_db
        self.user_sink = USER_SINK
        self.microphone = f"{ROOM_SINK}.monitor"  # the default input while it is open
        self._modules: list[str] = []
        self._reader: _MonitorReader | None = None

    def open(self, warm_up_timeout: float) -> None:
        card = self.card
        for sink in (USER_SINK, ROOM_SINK):
            self._load(
                "module-null-sink",
                f"sink_name={sink}",
                f"rate={SINK_RATE}",
                "channels=2",
                "norewinds=1",
                f"sink_properties=device.description={sink}",
            )
        echo = self._load(*_loopback(card.source_name, self.echo_delay_ms))
        self._load(*_loopback(f"{USER_SINK}.monitor", USER_DELAY_MS))
        card._pactl("set-sink-input-volume", self._sink_input_of(echo), f"{self.echo_gain_db}dB")
        card._pactl("set-default-source", self.microphone)
        self._reader = _MonitorReader(card._client_env(), card.server, self.microphone)
        if not self._reader.prompt.wait(warm_up_timeout):
            raise RigError(
                f"the room sink did not render in small steps within {warm_up_timeout} s"
            )

    def play_user(self, path: Path | str) -> PlayingFile:
        """Start playing a clip as the user speaking in the room."""
        return self.card.play_file(path, sink=self.user_sink)

    def play_user_pcm(self, samples: np.ndarray, rate: int) -> PlayingFile:
        return self.card.play_pcm(samples, rate, sink=self.user_sink)

    def start_recording(self) -> Recorder:
        """Record what the microphone hears (the room's monitor) from now on."""
        if self._reader is None or not self._reader.alive:
            raise RigError("the speakerphone is closed or its room reader died")
        return self._reader.attach()

    def echo_latency_ms(self) -> float:
        """What PulseAudio reports for the echo loopback (buffer + sink latency), in ms."""
        listing = self.card._pactl("list", "sink-inputs")
        echo_module = self._modules[2] if len(self._modules) > 2 else None
        for block in listing.split("\n\n"):
            if f"Owner Module: {echo_module}" in block:
                total = 0.0
                for line in block.splitlines():
                    line = line.strip()
                    if line.startswith(("Buffer Latency:", "Sink Latency:")):
                        total += float(line.split(":")[1].split()[0]) / 1000
                return total
        raise RigError("the echo loopback is not playing")

    def close(self) -> None:
        """Back to the plain card: the default input is the app's sink's monitor again."""
        if self._reader is not None:
            self._reader.stop()
            self._reader = None
        with suppress(RigError, subprocess.TimeoutExpired):
            self.card._pactl("set-default-source", self.card.source_name)
        for module in reversed(self._modules):
            with suppress(RigError, subprocess.TimeoutExpired):
                self.card._pactl("unload-module", module)
        self._modules.clear()

    def _load(self, *args: str) -> str:
        module = self.card._pactl("load-module", *args).strip()
        self._modules.append(module)
        return module

    def _sink_input_of(self, module: str) -> str:
        for block in self.card._pactl("list", "sink-inputs").split("\n\n"):
            if f"Owner Module: {module}" in block:
                return block.split("#", 1)[1].split()[0]
        raise RigError(f"module {module} made no sink input")


def _loopback(source: str, latency_ms: int) -> list[str]:
    return [
        "module-loopback",
        f"source={source}",
        f"sink={ROOM_SINK}",
        f"latency_msec={latency_ms}",
        "adjust_time=0",  # a fixed delay: the rate controller drifts between null sinks
        "source_dont_move=true",
        "sink_dont_move=true",
        "remix=true",
    ]


@pytest.fixture(scope="session")
def virtual_sound_card(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualSoundCard]:
    """A running virtual sound card; its PULSE_* variables are in os.environ meanwhile."""
    card = VirtualSoundCard(tmp_path_factory.mktemp("pulse"))
    try:
        card.start()
    except (RigError, OSError, subprocess.SubprocessError) as error:
        card.stop()
        pytest.fail(f"The virtual sound card did not start: {error}", pytrace=False)
    try:
        with environment(card.env):
            yield card
    finally:
        leftovers = card.stop()
        if leftovers:
            pytest.fail("The virtual sound card left processes running:\n" + "\n".join(leftovers))


@pytest.fixture
def speakerphone(virtual_sound_card: VirtualSoundCard) -> Iterator[Speakerphone]:
    """The session's card as a speakerphone for one test (60 ms echo at -6 dB)."""
    phone = virtual_sound_card.speakerphone()
    try:
        yield phone
    finally:
        phone.close()


@pytest.fixture
def no_sound_card(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No sound server: PortAudio (through ALSA's pulse plugin) finds no device."""
    config = tmp_path / "client.conf"
    config.write_text("autospawn = no\n")
    monkeypatch.setenv("PULSE_SERVER", f"unix:{tmp_path / 'no-sound-server-here'}")
    monkeypatch.setenv("PULSE_CLIENTCONFIG", str(config))
    yield


def align(reference: np.ndarray, recording: np.ndarray) -> tuple[int, float]:
    """Where `reference` sits in `recording` (sample offset, may be negative if the recording
    starts inside it) and how alike the two are there: the correlation coefficient over the
    overlap, 1.0 for a perfect copy at any volume."""
    ref = np.asarray(reference, dtype=np.float64)
    rec = np.asarray(recording, dtype=np.float64)
    size = 1 << int(np.ceil(np.log2(len(ref) + len(rec))))
    scores = np.fft.irfft(np.fft.rfft(rec, size) * np.conj(np.fft.rfft(ref, size)), size)
    # scores[k] compares rec[k + i] with ref[i]; negative offsets wrap to the end.
    lags = np.concatenate([np.arange(0, len(rec)), np.arange(-len(ref) + 1, 0)])
    picks = np.concatenate([scores[: len(rec)], scores[size - len(ref) + 1 :]])
    offset = int(lags[int(np.argmax(picks))])
    start_rec, start_ref = max(offset, 0), max(-offset, 0)
    length = min(len(rec) - start_rec, len(ref) - start_ref)
    if length < 2:
        return offset, 0.0
    a = rec[start_rec : start_rec + length]
    b = ref[start_ref : start_ref + length]
    if not a.std() or not b.std():
        return offset, 0.0
    return offset, float(np.corrcoef(a, b)[0, 1])


def similarity(
    reference: np.ndarray, reference_rate: int, recording: np.ndarray, recording_rate: int
) -> tuple[float, float]:
    """`align` after bringing both to RECORD_RATE (so a fraction of a sample at a low rate does
    not count as a difference): the reference's start in the recording, in seconds, and the
    correlation coefficient."""
    ref = soxr.resample(np.asarray(reference, dtype=np.float32), reference_rate, RECORD_RATE)
    rec = soxr.resample(np.asarray(recording, dtype=np.float32), recording_rate, RECORD_RATE)
    offset, correlation = align(ref, rec)
    return offset / RECORD_RATE, correlation


def likeness_in_pieces(
    reference: np.ndarray,
    reference_rate: int,
    recording: np.ndarray,
    recording_rate: int,
    piece_seconds: float = 0.25,
) -> list[float]:
    """`similarity` piece by piece: each audible piece of `reference` found again near where the
    whole was found, and how alike it is there. A real conversion fault (a wrong rate, channels
    mixed up) spoils every piece; a moment of sound the rig dropped under load (a late `paplay`
    leaves a gap in the sink, and everything after it is shifted) spoils only the piece it is in,
    where `similarity` of the whole would suffer for the rest of the clip."""
    ref = soxr.resample(np.asarray(reference, dtype=np.float32), reference_rate, RECORD_RATE)
    rec = soxr.resample(np.asarray(recording, dtype=np.float32), recording_rate, RECORD_RATE)
    offset, _ = align(ref, rec)
    size, slack = int(piece_seconds * RECORD_RATE), int(0.1 * RECORD_RATE)
    loud = 0.1 * float(np.sqrt(np.mean(ref.astype(np.float64) ** 2)))
    likenesses = []
    for begin in range(0, len(ref) - size + 1, size):
        piece = ref[begin : begin + size]
        if float(np.sqrt(np.mean(piece.astype(np.float64) ** 2))) < loud:
            continue  # a pause: nothing there to compare
        around = max(offset + begin - slack, 0)
        _, likeness = align(piece, rec[around : offset + begin + size + slack])
        likenesses.append(likeness)
    return likenesses

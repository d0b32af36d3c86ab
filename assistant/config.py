"""Typed settings: the TOML file, its validation, and where secrets come from.

Why one file (over 450 lines), for now: it is to become a package (the schema with each rule beside
its field, loading, saving, secrets: issue 15, item 3); until then the rules and the fields they
check are kept in one place, so that a rule is never defined twice.

Settings live in a TOML file the user may edit by hand; API keys never do: they come from the
environment or the OS keyring (docs/configuration.md lists every key).
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import logging
import math
import os
import re
import tempfile
import tomllib
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Any,
    Final,
    Literal,
    Union,
    cast,
    get_args,
    get_origin,
    get_type_hints,
)

from assistant.core.endpoints import check_endpoint
from assistant.core.errors import ConfigError, EndpointError

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

log = logging.getLogger(__name__)

DEFAULT_SYSTEM_PROMPT = (
    "You are a helpful voice assistant. Your answers are spoken aloud, so reply in short, "
    "natural sentences. Do not use Markdown, lists, tables, code or emoji. Be brief unless "
    "asked for detail."
)


@dataclass
class AudioSettings:
    input_device: str | int | None = None  # name (substring) or PortAudio index; None: default
    output_device: str | int | None = None
    talk_mode: Literal["hold", "toggle"] = "hold"
    max_recording_seconds: float = 60.0


@dataclass
class ConversationSettings:
    """How a turn begins: the Talk button, or the voice alone (docs/configuration.md)."""

    mode: Literal["push_to_talk", "hands_free", "wake_word"] = "push_to_talk"
    wake_word: Literal["hey_jarvis", "okay_nabu", "hey_mycroft", "alexa", "hey_rhasspy"] = (
        "hey_jarvis"
    )
    # Off only to hear what the canceller does: the assistant then answers its own voice.
    echo_cancellation: bool = True


@dataclass
class RemoteSttSettings:
    base_url: str = "https://api.openai.com/v1"
    model: str = "whisper-1"


@dataclass
class SttSettings:
    provider: Literal["local", "openai"] = "local"
    model: str = "bundled"  # "bundled" (tiny.en shipped as a package), a size name, or a directory
    language: str | None = None  # None: detect
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    compute_type: str = "int8"
    initial_prompt: str = ""
    hub_url: str = "https://huggingface.co"  # where size names download from; or a mirror
    openai: RemoteSttSettings = field(default_factory=RemoteSttSettings)


@dataclass
class LlmSettings:
    base_url: str = "http://127.0.0.1:11434/v1"  # Ollama
    model: str = "llama3.2"
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    history_chars: int = 12_000  # older turns are dropped beyond this many characters
    temperature: float | None = None


@dataclass
class OpenAiTtsSettings:
    base_url: str = "https://api.openai.com/v1"
    model: str = "tts-1"
    voice: str = "alloy"
    speed: float = 1.0


@dataclass
class VolcanoTtsSettings:
    endpoint: str = "https://openspeech.bytedance.com/api/v1/tts"
    appid: str = ""
    cluster: str = "volcano_tts"
    voice_type: str = "BV001_streaming"
    speed_ratio: float = 1.0
    sample_rate: int = 24_000


@dataclass
class VolcanoV3TtsSettings:
    endpoint: str = "https://openspeech.bytedance.com/api/v3/tts/unidirectional"
    appid: str = ""
    resource_id: str = "seed-tts-1.0"
    speaker: str = ""
    sample_rate: int = 24_000


@dataclass
class PiperTtsSettings:
    voice: str = "bundled"  # "bundled" (en_US-joe-medium, shipped as a package) or an .onnx path
    length_scale: float = 1.0


@dataclass
class TtsSettings:
    provider: Literal["piper", "openai", "volcano", "volcano_v3"] = "piper"
    lookahead: int = 2  # sentences synthesized ahead of the one playing
    openai: OpenAiTtsSettings = field(default_factory=OpenAiTtsSettings)
    volcano: VolcanoTtsSettings = field(default_factory=VolcanoTtsSettings)
    volcano_v3: VolcanoV3TtsSettings = field(default_factory=VolcanoV3TtsSettings)
    piper: PiperTtsSettings = field(default_factory=PiperTtsSettings)


@dataclass
class NetworkSettings:
    ca_file: str | None = None  # an extra CA bundle (PEM) to trust, besides the system's
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    keepalive_seconds: float = 90.0  # outlives the pause between two turns (Volcano keeps ~60 s)
    max_connections: int = 8


SETTINGS_KEYS_PLACE: Final = "Settings > API keys"


@dataclass(repr=False)
class Secrets:
    """API keys; never stored in the config file, never logged.

    Each key also knows where it came from (`source`), so that a service rejecting it can say
    where to fix it: a bad key from an environment variable is not fixed in Settings.
    """

    llm_api_key: str | None = None
    openai_api_key: str | None = None
    volcano_token: str | None = None
    stt_api_key: str | None = None  # a remote transcription service of its own

    def __post_init__(self) -> None:
        # Plain attributes, not fields: equality, `dataclasses.fields` (which the app walks to
        # protect every key in the logs) and the repr stay about the keys alone.
        self._from_environment: frozenset[str] = frozenset()
        self._keyring_problem: str | None = None

    @property
    def keyring_problem(self) -> str | None:
        """Why the system keyring was not read, as a sentence (None when it was, or when every
        key came from the environment): the reason a key saved in Settings may be missing."""
        return self._keyring_problem

    def from_environment(self, name: str) -> bool:
        """Whether the key `name` (e.g. "llm_api_key") came from its environment variable."""
        return _known(name) in self._from_environment

    def source(self, name: str) -> str:
        """Where the key `name` came from, in words for a message: "the environment variable
        ASSISTANT_LLM_API_KEY" or "Settings > API keys" (the system keyring, or a key given in
        code, such as one typed in the settings dialog). For a key that is not set: where it can
        be set, "Settings > API keys or the environment variable ASSISTANT_LLM_API_KEY"."""
        variable = f"the environment variable {SECRET_ENV_VARS[_known(name)]}"
        if name in self._from_environment:
            return variable
        if getattr(self, name) is None:
            return f"{SETTINGS_KEYS_PLACE} or {variable}"
        return SETTINGS_KEYS_PLACE

    def __repr__(self) -> str:
        # A repr ends up in logs and tracebacks: say whether a key is set, never what it is.
        shown = (
            f"{f.name}={'None' if getattr(self, f.name) is None else '<hidden>'}"
            for f in dataclasses.fields(self)
        )
        return f"Secrets({', '.join(shown)})"


@dataclass
class Settings:
    audio: AudioSettings = field(default_factory=AudioSettings)
    conversation: ConversationSettings = field(default_factory=ConversationSettings)
    stt: SttSettings = field(default_factory=SttSettings)
    llm: LlmSettings = field(default_factory=LlmSettings)
    tts: TtsSettings = field(default_factory=TtsSettings)
    network: NetworkSettings = field(default_factory=NetworkSettings)


# --- where the file is -------------------------------------------------------------------------

APP_NAME: Final = "voice-assistant"
CONFIG_ENV_VAR: Final = "ASSISTANT_CONFIG"


def default_config_path() -> Path:
    """The per-user settings file, e.g. ~/.config/voice-assistant/config.toml on Linux."""
    import platformdirs

    # appauthor=False keeps Windows at AppData\Local\voice-assistant (not the name twice).
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def config_path(cli_path: str | None, environ: Mapping[str, str] = os.environ) -> Path:
    """`--config PATH`, else $ASSISTANT_CONFIG, else the per-user default."""
    chosen = cli_path or environ.get(CONFIG_ENV_VAR)
    return Path(chosen).expanduser() if chosen else default_config_path()


# --- loading and validation --------------------------------------------------------------------


def load_settings(path: Path | None = None, environ: Mapping[str, str] = os.environ) -> Settings:
    """Read and validate the settings file; raise ConfigError naming the file and the bad keys.

    A missing file at the default place means the defaults (a first start); a missing file that
    was named explicitly is an error, since the user expects that file to be used.
    """
    path = config_path(None, environ) if path is None else path
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if path == default_config_path():
            return Settings()
        raise ConfigError(
            f"The configuration file {path} does not exist. Check the path given with --config "
            f"or in {CONFIG_ENV_VAR}, or leave both out to use {default_config_path()}."
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"The configuration file {path} could not be read ({exc.strerror or exc}). "
            "Check that it is a file you may read."
        ) from None
    return _settings_from_table(_parse_toml(raw, path), f"The configuration file {path}")


def validate_settings(settings: Settings) -> Settings:
    """The same checks as loading, for settings made in code (the settings dialog).

    Returns a normalized copy (URLs without a trailing slash); raises ConfigError.
    """
    return _settings_from_table(_table_of(settings), "These settings")


def _parse_toml(raw: bytes, path: Path) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8-sig")  # a BOM, as some Windows editors write, is harmless
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"The configuration file {path} is not UTF-8 text (byte {exc.start}). "
            "Save it as UTF-8 in your editor."
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11's TOMLDecodeError carries the position only in its text.
        where = re.search(r"\s*\(at line (\d+), column (\d+)\)", str(exc))
        reason = str(exc).replace(where.group(0), "") if where else str(exc)
        place = f", line {where.group(1)}, column {where.group(2)}" if where else ""
        raise ConfigError(
            f"{path}{place}: this is not valid TOML ({reason}). Fix that line; text values need "
            'quotes, e.g. model = "llama3.2".'
        ) from None


def _settings_from_table(table: Mapping[str, Any], subject: str) -> Settings:
    problems = _secret_problems(table, "")
    settings = _build(Settings, table, "", problems)
    if problems:
        listed = "\n".join(f"- {problem}" for problem in problems)
        raise ConfigError(f"{subject} cannot be used:\n{listed}")
    assert isinstance(settings, Settings)
    return settings


class _Bad(Exception):
    """One invalid setting; the message is a whole sentence naming the key."""


def _name(table: str, key: str) -> str:
    return f"[{table}] {key}" if table else key


def _build(cls: type[Any], table: Mapping[str, Any], where: str, problems: list[str]) -> Any:
    """Make a `cls` from a TOML table, adding a sentence to `problems` for each bad entry."""
    hints = get_type_hints(cls)
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key in _SECRET_KEYS and not isinstance(value, dict):
            continue  # already reported by _secret_problems
        if key not in hints:
            problems.append(_unknown(where, key, value, hints))
            continue
        try:
            values[key] = _value(value, hints[key], where, key, problems)
        except _Bad as bad:
            problems.append(str(bad))
    return cls(**values)


def _unknown(where: str, key: str, value: object, hints: Mapping[str, Any]) -> str:
    def shown(name: str) -> str:
        if isinstance(value, dict):
            return f"[{where}.{name}]" if where else f"[{name}]"
        return name

    thing = f"table {shown(key)}" if isinstance(value, dict) else f"key {_name(where, key)}"
    close = difflib.get_close_matches(key, list(hints), n=1)
    if close:
        return f"unknown {thing}; did you mean {shown(close[0])}?"
    known = ", ".join(hints)
    place = f"[{where}]" if where else "the top level"
    return f"unknown {thing}; the keys of {place} are {known}."


def _value(value: object, hint: Any, where: str, key: str, problems: list[str]) -> Any:
    name = _name(where, key)
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            full = f"{where}.{key}" if where else key
            raise _Bad(
                f"[{full}] must be a table: a line [{full}] followed by its settings "
                f"(got {_shown(value)})."
            )
        assert isinstance(hint, type)
        return _build(hint, value, f"{where}.{key}" if where else key, problems)
    converted = _typed(value, hint, name)
    if isinstance(converted, str):
        _within_text_limit(converted, f"{where}.{key}", name)
    rule = _RULES.get(f"{where}.{key}")
    return rule(converted, name) if rule is not None and converted is not None else converted


def _typed(value: object, hint: Any, name: str) -> Any:
    """Check `value` against a field's type: str, int, float, bool, a Literal or a union of them."""
    origin = get_origin(hint)
    if origin is Literal:
        choices = get_args(hint)
        if value in choices and isinstance(value, str):
            return value
        raise _Bad(f"{name} must be one of {', '.join(choices)} (got {_shown(value)}).")
    options = get_args(hint) if origin in (Union, types.UnionType) else (hint,)
    options = tuple(option for option in options if option is not type(None))
    for option in options:
        if _fits(value, option):
            if option is not float:
                return value
            number = float(cast(float, value))
            if not math.isfinite(number):  # inf or nan: no bound and no deadline could hold
                raise _Bad(f"{name} must be a finite number (got {_shown(number)}).")
            return number
    raise _Bad(f"{name} must be {' or '.join(_FORMS[o] for o in options)} (got {_shown(value)}).")


def _fits(value: object, kind: Any) -> bool:
    if isinstance(value, bool):  # a bool is an int to Python, never to a user
        return kind is bool
    if kind is float:
        return isinstance(value, int | float)
    return isinstance(value, kind)


_FORMS: Final[dict[Any, str]] = {
    str: "text in quotes",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
}


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str) and len(value) > 60:
        return repr(value[:57] + "...")
    return repr(value)


# --- the rules beyond types, keyed by "table.key" ----------------------------------------------

_Rule = Callable[[Any, str], Any]


def _between(low: float, high: float, *, above: bool = False) -> _Rule:
    """A range rule; `above=True` makes `low` exclusive ("greater than 0"). Every number has an
    upper bound: a timeout of 1e308 seconds is no timeout, and a size of 10**10 is no limit."""

    def check(value: float, name: str) -> float:
        whole = isinstance(value, int)
        kind = "a whole number" if whole else "a number"
        if not whole and not math.isfinite(value):
            raise _Bad(f"{name} must be a finite number (got {value}).")
        too_low = value <= low if above else value < low
        if too_low or value > high:
            if above:
                limit = f"greater than {low:,} and at most {high:,}"
            else:
                limit = f"from {low:,} to {high:,}"
            raise _Bad(f"{name} must be {kind} {limit} (got {_shown(value)}).")
        return value

    return check


def _one_of(*choices: object) -> _Rule:
    def check(value: object, name: str) -> object:
        if value not in choices:
            listed = ", ".join(str(choice) for choice in choices)
            raise _Bad(f"{name} must be one of {listed} (got {_shown(value)}).")
        return value

    return check


def _not_empty(value: str, name: str) -> str:
    if not value.strip():
        raise _Bad(f"{name} must not be empty.")
    return value


def _device(value: str | int, name: str) -> str | int:
    if isinstance(value, int) and not 0 <= value <= _MAX_DEVICE_NUMBER:
        raise _Bad(
            f"{name} must be a device number from 0 to {_MAX_DEVICE_NUMBER}, or a device name "
            f"(got {value}). `assistant devices` lists them."
        )
    if isinstance(value, str) and not value.strip():
        raise _Bad(f"{name} must not be empty; leave it out to use the system's default device.")
    return value


def _endpoint(value: str, name: str) -> str:
    try:
        return check_endpoint(value, name)
    except EndpointError as exc:
        raise _Bad(exc.message) from None


_MAX_DEVICE_NUMBER: Final = 999  # PortAudio numbers devices from 0; no machine has a thousand

# The longest text a setting may hold. Prompts are sent with every request, so a pasted novel
# would cost its size on every turn; any other text (a name, a URL, a path) is far shorter.
_TEXT_LIMIT: Final = 4_096
_TEXT_LIMITS: Final[dict[str, tuple[int, str]]] = {
    "llm.system_prompt": (20_000, ", since it is sent with every question"),
    "stt.initial_prompt": (1_000, ", since it is sent with every recording"),
}


def _within_text_limit(value: str, key: str, name: str) -> None:
    limit, why = _TEXT_LIMITS.get(key, (_TEXT_LIMIT, ""))
    if len(value) > limit:
        # The value itself is not repeated: it is long, and may be anything the user pasted.
        raise _Bad(
            f"{name} is {len(value):,} characters long; at most {limit:,} are allowed{why}. "
            "Shorten it."
        )


_COMPUTE_TYPES = (
    "default", "auto", "int8", "int8_float16", "int8_float32", "int8_bfloat16", "int16",
    "float16", "float32", "bfloat16",
)  # fmt: skip

_RULES: Final[dict[str, _Rule]] = {
    "audio.input_device": _device,
    "audio.output_device": _device,
    "audio.max_recording_seconds": _between(1, 600),
    "stt.model": _not_empty,
    "stt.compute_type": _one_of(*_COMPUTE_TYPES),
    "stt.hub_url": _endpoint,
    "stt.openai.base_url": _endpoint,
    "stt.openai.model": _not_empty,
    "llm.base_url": _endpoint,
    "llm.model": _not_empty,
    "llm.history_chars": _between(500, 200_000),
    "llm.temperature": _between(0.0, 2.0),
    "tts.lookahead": _between(1, 8),
    "tts.openai.base_url": _endpoint,
    "tts.openai.model": _not_empty,
    "tts.openai.voice": _not_empty,
    "tts.openai.speed": _between(0.25, 4.0),
    "tts.volcano.endpoint": _endpoint,
    "tts.volcano.cluster": _not_empty,
    "tts.volcano.voice_type": _not_empty,
    "tts.volcano.speed_ratio": _between(0.8, 2.0),
    "tts.volcano.sample_rate": _one_of(8000, 16000, 24000),
    "tts.volcano_v3.endpoint": _endpoint,
    "tts.volcano_v3.resource_id": _not_empty,
    "tts.volcano_v3.sample_rate": _one_of(8000, 16000, 22050, 24000, 32000, 44100, 48000),
    "tts.piper.voice": _not_empty,
    "tts.piper.length_scale": _between(0.25, 4.0),
    "network.connect_timeout": _between(0, 60, above=True),
    "network.read_timeout": _between(0, 600, above=True),
    "network.keepalive_seconds": _between(0, 3_600),
    "network.max_connections": _between(1, 100),
}


# --- secrets in the file are refused -----------------------------------------------------------

_SECRET_KEYS: Final = frozenset(
    {"api_key", "apikey", "token", "access_token", "key", "access_key", "secret", "password"}
)


def _secret_problems(table: Mapping[str, Any], where: str) -> list[str]:
    """Every secret-looking key anywhere in the file; its value is never repeated."""
    problems = []
    for key, value in table.items():
        if isinstance(value, dict):
            problems += _secret_problems(value, f"{where}.{key}" if where else key)
        elif key in _SECRET_KEYS:
            problems.append(
                f"{_name(where, key)} looks like a secret, and secrets do not belong in the "
                "configuration file (it is plain text). Delete the line, and store the key in the "
                "system keyring (Settings > API keys) or in the environment variable "
                f"{_secret_env_var_for(where)}."
            )
    return problems


def _secret_env_var_for(table: str) -> str:
    if table.startswith("llm"):
        return SECRET_ENV_VARS["llm_api_key"]
    if "volcano" in table:
        return SECRET_ENV_VARS["volcano_token"]
    if table.startswith("stt"):
        return SECRET_ENV_VARS["stt_api_key"]
    if "openai" in table:
        return SECRET_ENV_VARS["openai_api_key"]
    return ", ".join(SECRET_ENV_VARS.values())


# --- saving ------------------------------------------------------------------------------------


def save_settings(settings: Settings, path: Path) -> None:
    """Validate, then write the settings as TOML: atomically, readable by the user only."""
    table = _table_of(validate_settings(settings))
    try:
        _write_private(path, to_toml(table, header=_FILE_HEADER))
    except OSError as exc:
        raise ConfigError(
            f"The settings could not be saved to {path} ({exc.strerror or exc}). "
            "Check that the folder exists and is writable."
        ) from None


_FILE_HEADER = (
    "Settings of the voice assistant; see docs/configuration.md for every key.\n"
    "API keys are not kept here: they live in the system keyring, or in the environment\n"
    "variables ASSISTANT_LLM_API_KEY, ASSISTANT_OPENAI_API_KEY, ASSISTANT_VOLCANO_TOKEN and\n"
    "ASSISTANT_STT_API_KEY."
)


def _table_of(settings: Settings) -> dict[str, Any]:
    """The settings as nested dicts without None values (TOML has no null; absent = default)."""

    def prune(table: dict[str, Any]) -> dict[str, Any]:
        return {
            key: prune(value) if isinstance(value, dict) else value
            for key, value in table.items()
            if value is not None
        }

    return prune(dataclasses.asdict(settings))


def _write_private(path: Path, text: str) -> None:
    # A temporary file beside the target and os.replace: a crash never leaves half a file.
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        if os.name == "posix":
            os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def to_toml(table: Mapping[str, Any], header: str = "") -> str:
    """TOML for nested tables of strings, numbers and booleans (None values are left out)."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    _write_table(lines, (), table)
    return "\n".join(lines).lstrip("\n") + "\n"


def _write_table(lines: list[str], path: tuple[str, ...], table: Mapping[str, Any]) -> None:
    scalars = [(k, v) for k, v in table.items() if v is not None and not isinstance(v, Mapping)]
    tables = [(k, v) for k, v in table.items() if isinstance(v, Mapping)]
    if path and (scalars or not tables):
        lines += ["", f"[{'.'.join(_toml_key(part) for part in path)}]"]
    lines += [f"{_toml_key(key)} = {_toml_value(value)}" for key, value in scalars]
    for key, value in tables:
        _write_table(lines, (*path, key), value)


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_string(key)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    raise TypeError(f"cannot write {type(value).__name__} as a TOML value")


_TOML_ESCAPES: Final = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n",
                        "\f": "\\f", "\r": "\\r"}  # fmt: skip


def _toml_string(text: str) -> str:
    def escape(char: str) -> str:
        if char in _TOML_ESCAPES:
            return _TOML_ESCAPES[char]
        if ord(char) < 0x20 or ord(char) == 0x7F:
            return f"\\u{ord(char):04X}"
        return char

    return '"' + "".join(escape(char) for char in text) + '"'


# --- secrets: the environment first, then the OS keyring ---------------------------------------

KEYRING_SERVICE: Final = "voice-assistant"
SECRET_ENV_VARS: Final[dict[str, str]] = {
    "llm_api_key": "ASSISTANT_LLM_API_KEY",
    "openai_api_key": "ASSISTANT_OPENAI_API_KEY",
    "volcano_token": "ASSISTANT_VOLCANO_TOKEN",
    "stt_api_key": "ASSISTANT_STT_API_KEY",
}
_SECRET_LABELS: Final[dict[str, str]] = {
    "llm_api_key": "chat model API key",
    "openai_api_key": "OpenAI API key",
    "volcano_token": "Volcano Engine access token",
    "stt_api_key": "transcription service key",
}


def load_secrets(
    environ: Mapping[str, str] = os.environ, keyring_backend: KeyringBackend | None = None
) -> Secrets:
    """Each key from its environment variable if set, else from the OS keyring, else None.

    The keyring is asked only for the keys the environment does not set. A keyring that cannot
    be read is treated as empty: the app still starts, and a service that needs the key says so
    when it is used (`Secrets.keyring_problem` says why). No keyring at all is a plain fact of
    some machines (a server, a container), logged at INFO; a keyring that exists but fails
    (locked, broken) is one WARNING.
    """
    found = {
        name: environ.get(variable, "").strip() or None
        for name, variable in SECRET_ENV_VARS.items()
    }
    from_environment = frozenset(name for name, value in found.items() if value is not None)
    missing = [name for name, value in found.items() if value is None]
    problem = None
    if missing:
        from_keyring, problem = _read_keyring(missing, keyring_backend)
        found.update(from_keyring)
    secrets = Secrets(**found)
    secrets._from_environment = from_environment
    secrets._keyring_problem = problem
    return secrets


def _read_keyring(
    names: list[str], given: KeyringBackend | None
) -> tuple[dict[str, str | None], str | None]:
    """The keys `names` from the OS keyring, and, if it could not be read, a sentence saying why
    (logged here: at INFO when there is no keyring at all, else as a WARNING)."""
    from keyring.backends import fail, null
    from keyring.errors import NoKeyringError

    variables = ", ".join(SECRET_ENV_VARS.values())
    try:
        backend = _backend(given)
        if isinstance(backend, fail.Keyring | null.Keyring):
            raise NoKeyringError(_backend_name(backend))
        return {name: _clean(backend.get_password(KEYRING_SERVICE, name)) for name in names}, None
    except NoKeyringError:
        problem = f"No system keyring is available, so API keys come only from {variables}."
        log.info("%s", problem)
    except Exception as exc:  # locked, or a broken backend: "not in the keyring" for now
        problem = (
            f"The system keyring could not be read ({_failure(exc)}), so the keys saved in "
            f"{SETTINGS_KEYS_PLACE} are not used. Unlock it and start the assistant again, or "
            f"set {variables} in the environment."
        )
        log.warning("%s", problem)
    return {}, problem


def store_secret(name: str, value: str, keyring_backend: KeyringBackend | None = None) -> None:
    """Save one key (a field name of `Secrets`, e.g. `llm_api_key`) in the OS keyring."""
    label = _label(name)
    value = value.strip()
    if not value:
        raise ConfigError(f"The {label} is empty. Paste the key, or remove it instead.")
    backend = _usable_backend(keyring_backend, name, "saved")
    try:
        backend.set_password(KEYRING_SERVICE, name, value)
        kept = backend.get_password(KEYRING_SERVICE, name) == value
    except Exception as exc:
        raise ConfigError(
            f"The {label} could not be saved in the system keyring ({_failure(exc)}). Unlock the "
            f"keyring and try again, or set {SECRET_ENV_VARS[name]} in the environment instead."
        ) from None
    if not kept:
        raise ConfigError(
            f"The system keyring ({_backend_name(backend)}) did not keep the {label}. "
            f"Set {SECRET_ENV_VARS[name]} in the environment instead."
        )


def delete_secret(name: str, keyring_backend: KeyringBackend | None = None) -> None:
    """Remove one key from the OS keyring; removing a key that is not there is not an error."""
    from keyring.errors import PasswordDeleteError

    label = _label(name)
    backend = _usable_backend(keyring_backend, name, "removed")
    try:
        backend.delete_password(KEYRING_SERVICE, name)
    except PasswordDeleteError:
        return
    except Exception as exc:
        raise ConfigError(
            f"The {label} could not be removed from the system keyring ({_failure(exc)}). "
            "Unlock the keyring and try again."
        ) from None


def _label(name: str) -> str:
    return _SECRET_LABELS[_known(name)]


def _known(name: str) -> str:
    if name not in _SECRET_LABELS:
        raise ValueError(f"unknown secret {name!r}; expected one of {', '.join(_SECRET_LABELS)}")
    return name


def _backend(given: KeyringBackend | None) -> KeyringBackend:
    if given is not None:
        return given
    import keyring

    return keyring.get_keyring()


def _usable_backend(given: KeyringBackend | None, name: str, done: str) -> KeyringBackend:
    """The keyring to write to; no backend at all is an error, never a plain-text fallback."""
    from keyring.backends import fail, null

    try:
        backend = _backend(given)
    except Exception as exc:  # a broken PYTHON_KEYRING_BACKEND or keyringrc.cfg
        raise _no_keyring(name, done, _failure(exc)) from None
    if isinstance(backend, fail.Keyring | null.Keyring):
        raise _no_keyring(name, done, _backend_name(backend))
    return backend


def _no_keyring(name: str, done: str, reason: str) -> ConfigError:
    return ConfigError(
        f"No system keyring is available ({reason}), so the {_label(name)} was not {done}. "
        "On Linux, install and unlock GNOME Keyring or KWallet; or set "
        f"{SECRET_ENV_VARS[name]} in the environment before starting the assistant."
    )


def _backend_name(backend: object) -> str:
    return f"{type(backend).__module__}.{type(backend).__name__}"


def _failure(exc: BaseException) -> str:
    # keyring's own errors have fixed, key-free messages; anything else is named by type only,
    # in case a backend puts data it read into its message.
    from keyring.errors import KeyringError

    return f"{type(exc).__name__}: {exc}" if isinstance(exc, KeyringError) else type(exc).__name__


def _clean(value: str | None) -> str | None:
    value = value.strip() if value else None
    return value or None


__all__ = [
    "APP_NAME",
    "CONFIG_ENV_VAR",
    "DEFAULT_SYSTEM_PROMPT",
    "KEYRING_SERVICE",
    "SECRET_ENV_VARS",
    "SETTINGS_KEYS_PLACE",
    "AudioSettings",
    "ConversationSettings",
    "LlmSettings",
    "NetworkSettings",
    "OpenAiTtsSettings",
    "PiperTtsSettings",
    "RemoteSttSettings",
    "Secrets",
    "Settings",
    "SttSettings",
    "TtsSettings",
    "VolcanoTtsSettings",
    "VolcanoV3TtsSettings",
    "config_path",
    "default_config_path",
    "delete_secret",
    "load_secrets",
    "load_settings",
    "save_settings",
    "store_secret",
    "to_toml",
    "validate_settings",
]

"""Reading the settings: where the file is, its TOML, and the checks every value passes (its type,
then the rules its field names in the schema); every problem found is listed in one ConfigError.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import re
import tomllib
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Final, Literal, Union, cast, get_args, get_origin, get_type_hints

from assistant.config.places import user_config_dir
from assistant.config.rules import DEFAULT_TEXT_LIMIT, BadSetting, Rule, TextLimit, shown
from assistant.config.schema import Settings, lan_http_problems
from assistant.config.secrets import SECRET_ENV_VARS
from assistant.core.errors import ConfigError

# --- where the file is -------------------------------------------------------------------------

CONFIG_ENV_VAR: Final = "ASSISTANT_CONFIG"


def default_config_path() -> Path:
    """The per-user settings file, e.g. ~/.config/voice-assistant/config.toml on Linux."""
    return user_config_dir() / "config.toml"


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
    return _settings_from_table(table_of(settings), "These settings")


def table_of(settings: Settings) -> dict[str, Any]:
    """The settings as nested dicts without None values (TOML has no null; absent = default)."""

    def prune(table: dict[str, Any]) -> dict[str, Any]:
        return {
            key: prune(value) if isinstance(value, dict) else value
            for key, value in table.items()
            if value is not None
        }

    return prune(dataclasses.asdict(settings))


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
    problems += lan_http_problems(settings)
    if problems:
        listed = "\n".join(f"- {problem}" for problem in problems)
        raise ConfigError(f"{subject} cannot be used:\n{listed}")
    assert isinstance(settings, Settings)
    return settings


def _name(table: str, key: str) -> str:
    return f"[{table}] {key}" if table else key


def _build(cls: type[Any], table: Mapping[str, Any], where: str, problems: list[str]) -> Any:
    """Make a `cls` from a TOML table, adding a sentence to `problems` for each bad entry."""
    hints = get_type_hints(cls, include_extras=True)  # with each field's rules
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key in _SECRET_KEYS and not isinstance(value, dict):
            continue  # already reported by _secret_problems
        if key not in hints:
            problems.append(_unknown(where, key, value, hints))
            continue
        try:
            values[key] = _value(value, hints[key], where, key, problems)
        except BadSetting as bad:
            problems.append(str(bad))
    return cls(**values)


def _unknown(where: str, key: str, value: object, hints: Mapping[str, Any]) -> str:
    def spelled(name: str) -> str:
        if isinstance(value, dict):
            return f"[{where}.{name}]" if where else f"[{name}]"
        return name

    thing = f"table {spelled(key)}" if isinstance(value, dict) else f"key {_name(where, key)}"
    close = difflib.get_close_matches(key, list(hints), n=1)
    if close:
        return f"unknown {thing}; did you mean {spelled(close[0])}?"
    known = ", ".join(hints)
    place = f"[{where}]" if where else "the top level"
    return f"unknown {thing}; the keys of {place} are {known}."


def _value(value: object, hint: Any, where: str, key: str, problems: list[str]) -> Any:
    name = _name(where, key)
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            full = f"{where}.{key}" if where else key
            raise BadSetting(
                f"[{full}] must be a table: a line [{full}] followed by its settings "
                f"(got {shown(value)})."
            )
        assert isinstance(hint, type)
        return _build(hint, value, f"{where}.{key}" if where else key, problems)
    kind, rules, text_limit = _checks(hint)
    converted = _typed(value, kind, name)
    if isinstance(converted, str):
        text_limit.check(converted, name)
    for rule in rules:
        if converted is not None:
            converted = rule(converted, name)
    return converted


def _checks(hint: Any) -> tuple[Any, list[Rule], TextLimit]:
    """A field's type without its annotations, the rules written beside it, and its text limit."""
    if get_origin(hint) is not Annotated:
        return hint, [], DEFAULT_TEXT_LIMIT
    kind, *extras = get_args(hint)
    limits = [extra for extra in extras if isinstance(extra, TextLimit)]
    rules = [extra for extra in extras if not isinstance(extra, TextLimit)]
    return kind, rules, limits[0] if limits else DEFAULT_TEXT_LIMIT


def _typed(value: object, hint: Any, name: str) -> Any:
    """Check `value` against a field's type: str, int, float, bool, a Literal, a union of them, or
    a list of one of them."""
    origin = get_origin(hint)
    if origin is list:
        (item,) = get_args(hint)
        if isinstance(value, list) and all(_fits(entry, item) for entry in value):
            return list(value)
        raise BadSetting(
            f'{name} must be a list of {_FORMS[item]}, e.g. ["en", "de"] (got {shown(value)}).'
        )
    if origin is Literal:
        choices = get_args(hint)
        if value in choices and isinstance(value, str):
            return value
        raise BadSetting(f"{name} must be one of {', '.join(choices)} (got {shown(value)}).")
    options = get_args(hint) if origin in (Union, types.UnionType) else (hint,)
    options = tuple(option for option in options if option is not type(None))
    for option in options:
        if _fits(value, option):
            if option is not float:
                return value
            number = float(cast(float, value))
            if not math.isfinite(number):  # inf or nan: no bound and no deadline could hold
                raise BadSetting(f"{name} must be a finite number (got {shown(number)}).")
            return number
    raise BadSetting(
        f"{name} must be {' or '.join(_FORMS[o] for o in options)} (got {shown(value)})."
    )


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

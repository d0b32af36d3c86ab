"""API keys: never in the settings file; each from its environment variable, else from the OS
keyring (written there by Settings > API keys). A key also knows where it came from, so that a
service rejecting it can say where to fix it.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from assistant.core.errors import ConfigError

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

log = logging.getLogger(__name__)

SETTINGS_KEYS_PLACE: Final = "Settings > API keys"

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

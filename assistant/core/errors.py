"""The one exception tree that reaches the turn controller and, through it, the user.

    AssistantError            every error a user may see; `str(e)` says what happened and what to do
    ├── ConfigError           the configuration file or a setting is wrong
    ├── DeviceError           no microphone / speaker, a busy or vanished device
    ├── ModelError            a speech-recognition model cannot be found or loaded
    │   └── ModelMissing      it is not on this computer and could not be downloaded
    └── ServiceError          a network service failed (chat, speech, remote transcription)
        ├── EndpointError     an endpoint is refused by policy (plain http to a remote host, ...)
        ├── AuthError         the key or token was rejected
        ├── RateLimitError    the service asks us to slow down (may carry retry_after)
        ├── UnreachableError  could not connect, or timed out
        └── ReplyCutOff       the reply stopped short (a length limit, a content filter): what came
                              before it is whole, so it is spoken to the end before this is told

Adapters translate their library's exceptions into these at their boundary, so the core and the
GUI never see an httpx or PortAudio exception. Messages never contain secrets.
"""

from __future__ import annotations


class AssistantError(Exception):
    """An error with a message fit to show a user: what happened, and what to do."""

    retryable: bool = False

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        if retryable is not None:
            self.retryable = retryable


class ConfigError(AssistantError):
    """The configuration file or one of its settings is invalid."""


class DeviceError(AssistantError):
    """An audio device is missing, busy or disappeared."""


class ModelError(AssistantError):
    """A speech model cannot be found or loaded."""


class ModelMissing(ModelError):
    """The speech model is not on this computer and could not be fetched (offline, say).
    `model` is the setting that named it; the GUI offers to download it or choose a folder."""

    def __init__(self, message: str, *, model: str) -> None:
        super().__init__(message)
        self.model = model


class ServiceError(AssistantError):
    """A network service (chat, speech synthesis, remote transcription) failed."""


class EndpointError(ServiceError):
    """An endpoint URL is refused by the security policy."""


class AuthError(ServiceError):
    """The service rejected the key or token."""


class RateLimitError(ServiceError):
    """The service is busy or rate-limiting; retrying later may work."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UnreachableError(ServiceError):
    """The service could not be reached, or did not answer in time."""

    retryable = True


class ReplyCutOff(ServiceError):
    """The model's reply ended early for a reason the service gave (it reached its length limit,
    or a content filter stopped it). Raised after the last text: the text is complete as far as it
    goes, so it is spoken to its end before the message is shown."""


__all__ = [
    "AssistantError",
    "AuthError",
    "ConfigError",
    "DeviceError",
    "EndpointError",
    "ModelError",
    "ModelMissing",
    "RateLimitError",
    "ReplyCutOff",
    "ServiceError",
    "UnreachableError",
]

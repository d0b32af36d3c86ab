"""A desktop voice assistant: hold to talk, hear the answer sentence by sentence."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("voice-assistant")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

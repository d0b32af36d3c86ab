"""Where each known chat service listens, and a model it serves, for Settings' preset list.
Local servers answer with whatever model is loaded; LM Studio wants the identifier it shows for
the loaded model."""

from __future__ import annotations

PRESETS: dict[str, tuple[str, str]] = {
    "ollama": ("http://127.0.0.1:11434/v1", "llama3.2"),
    "lmstudio": ("http://127.0.0.1:1234/v1", "local-model"),
    "llamacpp": ("http://127.0.0.1:8080/v1", "local-model"),
    "openai": ("https://api.openai.com/v1", "gpt-4o-mini"),
    "deepseek": ("https://api.deepseek.com/v1", "deepseek-chat"),
    "volcano_ark": ("https://ark.cn-beijing.volces.com/api/v3", "doubao-seed-1-6-flash-250828"),
}

__all__ = ["PRESETS"]

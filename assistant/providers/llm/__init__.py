"""Chat models (core.protocols.ChatModel)."""

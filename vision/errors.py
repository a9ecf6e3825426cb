"""Errors raised by the vision layer. Each names the file or field at fault."""

from __future__ import annotations


class VisionError(Exception):
    """Base of every error the vision layer raises on bad input."""


class SourceError(VisionError):
    """A video, image or stream could not be read (missing, corrupt, truncated, not a video)."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class ModelError(VisionError):
    """A model file is missing, of an unknown format, or its runtime is not installed."""

    def __init__(self, model: str, reason: str) -> None:
        super().__init__(f"{model}: {reason}")
        self.model = model
        self.reason = reason

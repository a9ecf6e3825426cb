"""Which decoded frames a source hands on: every frame, N per second, or keyframes only."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

SamplingMode = Literal["all", "fps", "keyframes"]
_MODES: tuple[SamplingMode, ...] = ("all", "fps", "keyframes")
# Timestamps come from rational time bases; a tick must not be missed by a rounding error.
_EPSILON = 1e-6


@dataclass(frozen=True)
class Sampling:
    """How densely to sample a video or stream.

    Attributes:
        mode: ``"all"`` hands on every decoded frame; ``"fps"`` the first frame at or after each ``1/fps``-second
            tick of the presentation timestamp; ``"keyframes"`` only intra frames (non-key frames are not even
            decoded, which makes it the fastest skim).
        fps: Frames per second for ``mode="fps"``; ignored otherwise.
    """

    mode: SamplingMode = "fps"
    fps: float = 2.0

    def __post_init__(self) -> None:
        if self.mode not in _MODES:
            raise ValueError(f"sampling mode must be one of {_MODES}, got {self.mode!r}")
        if not (math.isfinite(self.fps) and self.fps > 0):
            raise ValueError(f"sampling fps must be a positive number, got {self.fps!r}")

    @classmethod
    def every_frame(cls) -> Sampling:
        """Every decoded frame."""
        return cls(mode="all")

    @classmethod
    def per_second(cls, fps: float) -> Sampling:
        """The first frame at or after each ``1/fps``-second tick."""
        return cls(mode="fps", fps=fps)

    @classmethod
    def keyframes(cls) -> Sampling:
        """Intra frames only; the others are skipped without decoding."""
        return cls(mode="keyframes")

    @classmethod
    def parse(cls, text: str) -> Sampling:
        """Reads a command-line spelling: ``all``, ``keyframes``, ``2``, ``2fps`` or ``0.5fps``.

        Raises:
            ValueError: The text is none of those.
        """
        spelled = text.strip().lower()
        if spelled in ("all", "every", "every-frame"):
            return cls.every_frame()
        if spelled in ("keyframes", "key", "keyframe"):
            return cls.keyframes()
        number = spelled.removesuffix("fps").strip()
        try:
            return cls.per_second(float(number))
        except ValueError:
            raise ValueError(f"sampling {text!r}: expected 'all', 'keyframes' or a rate such as '2fps'") from None

    def expected_count(self, duration: float | None, frame_count: int | None) -> int | None:
        """How many frames this sampling should yield from a source of that length, when it can be told.

        Args:
            duration: Length in seconds, if known.
            frame_count: Frames in the source, if known.

        Returns:
            An estimate for progress bars, or None (keyframe counts are not known before decoding).
        """
        if self.mode == "all":
            if frame_count is not None:
                return frame_count
            return None
        if self.mode == "fps" and duration is not None and duration > 0:
            ticks = math.ceil(duration * self.fps - _EPSILON)
            return min(ticks, frame_count) if frame_count is not None else ticks
        return None

    def __str__(self) -> str:
        if self.mode == "fps":
            return f"{self.fps:g} fps"
        return "every frame" if self.mode == "all" else "keyframes"


class FrameSelector:
    """Applies a `Sampling` to decoded frames one at a time, in presentation order.

    In ``fps`` mode it keeps the first frame whose timestamp is at or after each tick ``k / fps``; when frames are
    sparser than the ticks (a gap in a variable-frame-rate file) the skipped ticks are not repeated.
    """

    def __init__(self, sampling: Sampling) -> None:
        self.sampling = sampling
        self._next_tick = 0

    def accept(self, timestamp: float, keyframe: bool) -> bool:
        """Whether the frame at this timestamp (seconds) is handed on."""
        mode = self.sampling.mode
        if mode == "all":
            return True
        if mode == "keyframes":
            # Some decoders ignore skip_frame; filter again so the contract holds.
            return keyframe
        rate = self.sampling.fps
        if timestamp * rate + _EPSILON < self._next_tick:
            return False
        self._next_tick = math.floor(timestamp * rate + _EPSILON) + 1
        return True

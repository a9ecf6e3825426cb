"""Writing rendered frames as H.264 MP4 with PyAV."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import numpy as np
import numpy.typing as npt


class Mp4Writer:
    """Appends BGR frames to an H.264 MP4 at a fixed frame rate.

    Use as a context manager; the file is complete when it is closed.
    """

    def __init__(self, path: Path, fps: float, size: tuple[int, int], crf: int = 23) -> None:
        width, height = size
        if width % 2 or height % 2:
            raise ValueError(f"video size must be even for yuv420p, got {width}x{height}")
        self.path = path
        self._container = av.open(str(path), mode="w")
        rate = round(fps * 1000)
        self._stream = self._container.add_stream("libx264", rate=Fraction(rate, 1000))
        self._stream.width, self._stream.height = width, height
        self._stream.pix_fmt = "yuv420p"
        self._stream.options = {"crf": str(crf), "preset": "veryfast"}
        self.frames = 0

    def write(self, image: npt.NDArray[np.uint8]) -> None:
        """Append one ``(H, W, 3)`` BGR frame."""
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        """Flush the encoder and close the file."""
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()

    def __enter__(self) -> Mp4Writer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

"""Writing rendered frames as H.264 MP4 with PyAV."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import cv2
import numpy as np
import numpy.typing as npt

_CV_CPU_AVX2 = 11  # cv::CPU_AVX2 in OpenCV's cvdef.h (the Python module exports no name for it)


def _deterministic_x264() -> dict[str, str]:
    """x264 options that make the bytes a function of the frames alone, whatever the machine.

    With its AVX-512 code x264's output depends on uninitialised heap memory (the bytes change with glibc's
    ``MALLOC_PERTURB_`` and with what the process did before; ``mbtree=0`` or ``bframes=0`` also end it), so the
    same frames gave a different video in every process. On a CPU with AVX2 the instruction sets are capped
    there, as on a CPU without AVX-512; older CPUs have no AVX-512 code to avoid.
    """
    return {"x264-params": "asm=AVX2"} if cv2.checkHardwareSupport(_CV_CPU_AVX2) else {}


class Mp4Writer:
    """Appends BGR frames to an H.264 MP4 at a fixed frame rate.

    Use as a context manager; the file is complete when it is closed. The same frames give the same bytes on
    any machine (one encoder thread: with PyAV's default, one slice thread per core, the slices of each frame
    and so the bytes depended on the number of cores).
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
        self._stream.options = {"crf": str(crf), "preset": "veryfast", **_deterministic_x264()}
        self._stream.codec_context.thread_count = 1
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

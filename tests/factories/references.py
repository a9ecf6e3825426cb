"""Cameras, textured photos with EXIF and videos whose frames differ in sharpness, for the reference tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import numpy.typing as npt
from av.video.stream import VideoStream
from PIL import Image
from sqlalchemy.orm import Session

from factories.evidence import textured_image
from factories.media import make_photo
from service.cameras.queries import create_camera
from service.db.models import Camera

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
# A street in Shanghai; 1e-4 degrees of latitude is about 11.1 m.
STREET = (31.2304, 121.4737)
PICTURE_SIZE = (160, 120)  # width, height


def make_cameras(session: Session) -> dict[str, Camera]:
    """One camera of each kind (flushed): ``fixed-1``, ``ptz-1``, ``patrol-1``, and a second patrol ``patrol-2``."""
    return {
        key: create_camera(session, key=key, kind=kind, name=f"{kind} camera")
        for key, kind in (("fixed-1", "fixed"), ("ptz-1", "ptz"), ("patrol-1", "patrol"), ("patrol-2", "patrol"))
    }


def textured_photo(path: Path, *, seed: int = 0, size: tuple[int, int] = PICTURE_SIZE, **exif: Any) -> Path:
    """A textured photo (``make_photo``'s EXIF tags: ``taken``, ``offset``, ``gps``, ``heading``)."""
    make_photo(path, size=size, **exif)
    with Image.open(path) as flat:
        tags = flat.getexif()
    width, height = size
    Image.fromarray(textured_image(height, width, seed)[:, :, ::-1]).save(path, exif=tags)
    return path


def blurred(image: npt.NDArray[np.uint8], sigma: float) -> npt.NDArray[np.uint8]:
    """``image`` Gaussian-blurred with ``sigma`` pixels (0: unchanged)."""
    return image if sigma == 0 else np.asarray(cv2.GaussianBlur(image, (0, 0), sigma), np.uint8)


def textured_video(
    path: Path, *, blur_sigmas: Sequence[float], fps: int = 25, metadata: Mapping[str, str] | None = None
) -> Path:
    """An H.264 video of one textured scene, frame ``i`` blurred by ``blur_sigmas[i]`` (0: sharp)."""
    width, height = PICTURE_SIZE
    scene = textured_image(height, width, seed=5)
    container = av.open(str(path), "w")
    container.metadata.update(metadata or {})
    stream = container.add_stream("libx264", rate=fps)
    assert isinstance(stream, VideoStream)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.codec_context.options = {"preset": "ultrafast", "bframes": "0", "crf": "12"}
    stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
    for index, sigma in enumerate(blur_sigmas):
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(blurred(scene, sigma)), format="bgr24")
        frame.pts, frame.time_base = round(index * 1000 / fps), Fraction(1, 1000)
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))
    container.close()
    return path

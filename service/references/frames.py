"""One good picture for a reference: the sharpest of the first frames of a photo, video or stream, checked.

A reference must show the place: a black frame from a stream that has not started, a covered lens or a tiny
thumbnail cannot be compared with anything, so they are refused here, naming the file.
"""

from __future__ import annotations

import os
from datetime import tzinfo

import cv2
import numpy as np
import numpy.typing as npt

from service.errors import Invalid
from vision.errors import SourceError
from vision.frame import Frame

MIN_SIDE_PX = 32
# Grey-level standard deviation below which a picture is one flat colour (JPEG noise alone is well below 1).
MIN_CONTRAST = 2.0
_SHARPNESS_WIDTH = 640


def grab_frame(location: str | os.PathLike[str], *, frames: int = 1, default_tz: tzinfo | None = None) -> Frame:
    """The sharpest of the first ``frames`` readable frames of a photo, folder of photos, video or stream.

    Args:
        location: An image or video file, a folder of images, or a stream URL.
        frames: How many frames to read and choose from (1: the first readable frame).
        default_tz: Zone for EXIF times without an offset (see ``vision.sources.open_source``).

    Returns:
        The chosen frame, with its ``wall_time`` and ``gps`` when the source knows them.

    Raises:
        Invalid: The location cannot be read, holds no readable frame, or the picture is blank or too small
            (``field="source"``; the message names the file).
    """
    from vision.sources import Sampling, open_source

    if frames < 1:
        raise Invalid(f"must be at least 1, got {frames}", field="frames")
    read: list[Frame] = []
    try:
        with open_source(location, sampling=Sampling.every_frame(), default_tz=default_tz) as source:
            for frame in source:
                read.append(frame)
                if len(read) >= frames:
                    break
    except SourceError as error:
        if not read:  # a source that fails after some frames keeps them (FrameSource's contract)
            raise Invalid(str(error), field="source") from error
    if not read:
        raise Invalid(f"{os.fspath(location)}: no frame could be read", field="source")
    best = max(read, key=lambda frame: sharpness(frame.image))
    check_picture(best.image, name=best.source_id)
    return best


def check_picture(image: object, *, name: str) -> None:
    """Check that ``image`` can serve as a reference: ``(H, W, 3)`` uint8, big enough, not one flat colour.

    Args:
        image: The candidate picture.
        name: The file, URL or field it came from, for the message.

    Raises:
        Invalid: Naming ``name`` and what is wrong.
    """
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        shape = getattr(image, "shape", None)
        raise Invalid(f"{name}: a reference must be an (H, W, 3) uint8 BGR image, got {shape}", field="source")
    height, width = image.shape[:2]
    if min(height, width) < MIN_SIDE_PX:
        raise Invalid(
            f"{name}: {width}x{height} pixels is too small for a reference (at least {MIN_SIDE_PX} per side)",
            field="source",
        )
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    contrast = float(grey.std())
    if contrast < MIN_CONTRAST:
        raise Invalid(
            f"{name}: the picture is blank (one flat grey level {float(grey.mean()):.0f}): "
            "a covered lens, or a stream that has not started?",
            field="source",
        )


def sharpness(image: npt.NDArray[np.uint8]) -> float:
    """Variance of the Laplacian of the grey image at most 640 px wide: higher is sharper (focus, motion blur)."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    if grey.shape[1] > _SHARPNESS_WIDTH:
        scale = _SHARPNESS_WIDTH / grey.shape[1]
        grey = cv2.resize(grey, (_SHARPNESS_WIDTH, max(1, round(grey.shape[0] * scale))), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())

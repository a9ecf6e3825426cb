"""Reading the comparer's inputs from files: images and per-camera ignore masks."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from vision.errors import SourceError


def read_image(path: str | Path) -> npt.NDArray[np.uint8]:
    """Read an image file as ``(H, W, 3)`` uint8 BGR.

    Raises:
        SourceError: The file is missing, empty or not a readable image.
    """
    path = Path(path)
    if not path.is_file():
        raise SourceError(str(path), "no such file")
    data = np.fromfile(path, np.uint8)  # np.fromfile + imdecode also handles non-ASCII paths
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise SourceError(str(path), "not a readable image")
    return np.asarray(image, np.uint8)


def load_ignore_mask(path: str | Path, shape: tuple[int, int]) -> npt.NDArray[np.bool_]:
    """Load a camera's ignore mask for images of ``shape`` (H, W).

    Two forms are accepted:

    * an image (PNG, JPEG...): non-zero pixels are ignored; it is resized to ``shape`` if needed;
    * a JSON file of polygons: ``{"polygons": [[[x, y], ...], ...]}`` or a bare list of polygons,
      points in pixels of ``shape``, or all within ``[0, 1]`` for fractions of width and height.

    Returns:
        Boolean ``(H, W)`` mask, True where changes are ignored.

    Raises:
        SourceError: Missing, unreadable or malformed file.
    """
    path = Path(path)
    if not path.is_file():
        raise SourceError(str(path), "no such file")
    if path.suffix.lower() == ".json":
        return _polygon_mask(path, shape)
    mask = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_GRAYSCALE)
    if mask is None:
        raise SourceError(str(path), "not a readable mask image")
    if mask.shape != shape:
        mask = cv2.resize(mask, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
    return mask > 0


def _polygon_mask(path: Path, shape: tuple[int, int]) -> npt.NDArray[np.bool_]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SourceError(str(path), f"not valid JSON ({error})") from error
    polygons = data.get("polygons") if isinstance(data, dict) else data
    if not isinstance(polygons, list):
        raise SourceError(str(path), 'expected {"polygons": [[[x, y], ...], ...]}')
    mask = np.zeros(shape, np.uint8)
    for index, polygon in enumerate(polygons):
        try:
            points = np.asarray(polygon, np.float64).reshape(-1, 2)
        except (TypeError, ValueError) as error:
            raise SourceError(str(path), f"polygon {index} is not a list of [x, y] points") from error
        if len(points) < 3 or not np.all(np.isfinite(points)):
            raise SourceError(str(path), f"polygon {index} needs at least 3 finite points")
        if points.min() >= 0.0 and points.max() <= 1.0:
            points = points * [shape[1], shape[0]]
        cv2.fillPoly(mask, [np.round(points).astype(np.int32)], 1)
    return mask.astype(bool)

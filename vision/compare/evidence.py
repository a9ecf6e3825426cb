"""The before/after evidence image a reviewer reads at a glance: reference | current | change overlay."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from vision.compare.labels import map_boxes
from vision.compare.types import ChangeRegion, ChangeResult

Image = npt.NDArray[np.uint8]
# Loose on purpose: OpenCV's stubs type every array it returns as "integer or floating".
Canvas = npt.NDArray[Any]

# BGR colours: what appeared in red, what disappeared in blue.
KIND_COLOURS = {"new": (40, 40, 235), "gone": (235, 150, 30)}
_HEADER_COLOUR = (32, 32, 32)
_TEXT_COLOUR = (245, 245, 245)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def region_caption(region: ChangeRegion) -> str:
    """Short text for a region: kind, what it is (or that it is unexplained) and score."""
    return f"{region.kind} {region.label or 'unexplained'} {region.score:.2f}"


def render_evidence(
    reference: Image, current: Image, result: ChangeResult, *, title: str = "", panel_height: int = 540
) -> Image:
    """Draw reference, current and change overlay side by side under a one-line header.

    Regions are boxed and captioned on the current image and the overlay; on the reference their boxes
    are mapped back through the homography, so a "gone" box shows where the object used to be.

    Args:
        reference: BGR reference image.
        current: BGR current image.
        result: The comparison of the two.
        title: Text that starts the header (e.g. the file names).
        panel_height: Height of each panel in pixels (panels keep their aspect ratio).

    Returns:
        A BGR image of width about three panels and height ``panel_height`` plus the header.
    """
    panel_height = min(panel_height, current.shape[0])
    factor = panel_height / current.shape[0]
    panel_size = (round(current.shape[1] * factor), panel_height)
    ref_panel = cv2.resize(reference, panel_size, interpolation=cv2.INTER_AREA)
    cur_panel = cv2.resize(current, panel_size, interpolation=cv2.INTER_AREA)
    overlay = _overlay(cur_panel, result)
    ref_factor = (panel_size[0] / reference.shape[1], panel_size[1] / reference.shape[0])
    to_reference = None if result.homography is None else np.linalg.inv(result.homography).astype(np.float64)
    for region in result.regions:
        colour = KIND_COLOURS[region.kind]
        caption = region_caption(region)
        box = np.asarray(region.box, np.float64) * factor
        _box(cur_panel, box, colour, caption)
        _box(overlay, box, colour, caption)
        if to_reference is not None:
            before = map_boxes(np.asarray([region.box], np.float32), to_reference)[0]
            _box(ref_panel, before * np.tile(ref_factor, 2), colour, region.kind)
    body = np.hstack(
        [
            _titled(ref_panel, "reference"),
            _gap(panel_height),
            _titled(cur_panel, "current"),
            _gap(panel_height),
            _titled(overlay, "change"),
        ]
    )
    return np.vstack([_header(body.shape[1], _summary(result, title)), body]).astype(np.uint8)


def _summary(result: ChangeResult, title: str) -> str:
    prefix = f"{title}  |  " if title else ""
    if not result.aligned:
        return f"{prefix}NOT ALIGNED: {result.reason}"
    new = sum(region.kind == "new" for region in result.regions)
    gone = len(result.regions) - new
    if not result.regions:
        return f"{prefix}aligned, no change found"
    return f"{prefix}aligned, {new} new, {gone} gone"


def _overlay(panel: Canvas, result: ChangeResult) -> Canvas:
    """The current panel, dimmed, with the change map as a heat map where it is high."""
    if result.change_map is None:
        return (panel * 0.5).astype(np.uint8)
    scores = cv2.resize(result.change_map, (panel.shape[1], panel.shape[0]), interpolation=cv2.INTER_LINEAR)
    heat = cv2.applyColorMap(np.clip(scores * 255, 0, 255).astype(np.uint8), cv2.COLORMAP_JET)
    # Only clear change is tinted, so the overlay stays quiet where nothing happened.
    weight = np.clip((scores - 0.25) / 0.5, 0.0, 1.0)[..., None] * 0.7
    return (panel * (1.0 - weight) * 0.7 + heat * weight).astype(np.uint8)


def _box(canvas: Canvas, box: npt.NDArray[np.float64], colour: tuple[int, int, int], caption: str) -> None:
    x1, y1, x2, y2 = (round(float(v)) for v in box)
    thickness = max(2, canvas.shape[0] // 270)
    cv2.rectangle(canvas, (x1, y1), (x2, y2), colour, thickness, cv2.LINE_AA)
    scale = max(0.45, canvas.shape[0] / 1000)
    (width, height), baseline = cv2.getTextSize(caption, _FONT, scale, 1)
    top = y1 - height - baseline - 4 if y1 - height - baseline - 4 >= 0 else y2
    left = min(max(0, x1), max(0, canvas.shape[1] - width - 4))
    cv2.rectangle(canvas, (left, top), (left + width + 4, top + height + baseline + 4), colour, cv2.FILLED)
    cv2.putText(canvas, caption, (left + 2, top + height + 2), _FONT, scale, _TEXT_COLOUR, 1, cv2.LINE_AA)


def _titled(panel: Canvas, name: str) -> Canvas:
    panel = panel.copy()
    scale = max(0.45, panel.shape[0] / 900)
    (width, height), baseline = cv2.getTextSize(name, _FONT, scale, 1)
    cv2.rectangle(panel, (0, 0), (width + 8, height + baseline + 8), _HEADER_COLOUR, cv2.FILLED)
    cv2.putText(panel, name, (4, height + 4), _FONT, scale, _TEXT_COLOUR, 1, cv2.LINE_AA)
    return panel


def _gap(height: int) -> Image:
    return np.full((height, 6, 3), 255, np.uint8)


def _header(width: int, text: str) -> Image:
    header = np.full((40, width, 3), _HEADER_COLOUR, np.uint8)
    cv2.putText(header, text, (10, 27), _FONT, 0.7, _TEXT_COLOUR, 1, cv2.LINE_AA)
    return header

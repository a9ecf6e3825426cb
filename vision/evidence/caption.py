"""What an evidence image says about its object: class, confidence, time, camera, place, in Chinese or English."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import PurePath

from vision.frame import GeoPoint
from vision.sighting import Sighting
from vision.taxonomy import Taxonomy, load_taxonomy

# Field labels of the caption band, per language.
_LABELS = {
    True: {"confidence": "置信度", "time": "时间", "camera": "摄像头", "location": "位置", "unknown": "未知"},
    False: {
        "confidence": "confidence",
        "time": "time",
        "camera": "camera",
        "location": "location",
        "unknown": "unknown",
    },
}


@dataclass(frozen=True)
class EvidenceCaption:
    """The facts written on an evidence image.

    Attributes:
        class_id: Detector class id (picks the box colour).
        class_name: Class name in the product's vocabulary, e.g. ``vendor_stall``.
        name_zh: Chinese name of the class, e.g. ``流动摊贩``.
        name_en: English name of the class.
        confidence: Detection or track confidence, ``[0, 1]``.
        taken_at: When the frame was taken, if known (shown with its UTC offset).
        source_time: Seconds into the source, shown when ``taken_at`` is unknown.
        source_id: The file or stream, named (by its last path part) when ``taken_at`` is unknown.
        camera_name: The department's name for the camera, if known.
        location: Where the object is, with its uncertainty, if located.
    """

    class_id: int
    class_name: str
    name_zh: str
    name_en: str
    confidence: float
    taken_at: datetime | None = None
    source_time: float | None = None
    source_id: str | None = None
    camera_name: str | None = None
    location: GeoPoint | None = None


def caption_for_sighting(
    sighting: Sighting,
    *,
    camera_name: str | None = None,
    location: GeoPoint | None = None,
    taxonomy: Taxonomy | None = None,
) -> EvidenceCaption:
    """The caption of a sighting's best frame.

    Args:
        sighting: The sighting; its best frame's time and its aggregated score are shown.
        camera_name: The camera's name, if known.
        location: Where the object is; ``None`` uses ``sighting.location``.
        taxonomy: Where Chinese and English class names come from; ``None`` reads the shipped one. A class the
            taxonomy does not know is named by its class name in both languages.
    """
    vocabulary = taxonomy if taxonomy is not None else _shipped_taxonomy()
    name_zh = name_en = sighting.class_name
    if sighting.class_name in vocabulary:
        detector_class = vocabulary.get(sighting.class_name)
        name_zh, name_en = detector_class.name_zh, detector_class.name_en
    frame = sighting.best_frame
    return EvidenceCaption(
        class_id=sighting.class_id,
        class_name=sighting.class_name,
        name_zh=name_zh,
        name_en=name_en,
        confidence=sighting.score,
        taken_at=frame.wall_time,
        source_time=frame.timestamp,
        source_id=sighting.source_id,
        camera_name=camera_name,
        location=location if location is not None else sighting.location,
    )


def chinese_text(caption: EvidenceCaption) -> str:
    """The Chinese a caption in Chinese needs a font for (class name and field labels; not the camera's name)."""
    return caption.name_zh + "".join(_LABELS[True].values()) + "第秒"


def box_label(caption: EvidenceCaption, *, chinese: bool) -> str:
    """The short label drawn on the box: class name and confidence."""
    name = caption.name_zh if chinese else caption.class_name
    return f"{name} {caption.confidence:.2f}"


def caption_lines(caption: EvidenceCaption, *, chinese: bool) -> tuple[str, ...]:
    """The lines of the caption band: what and how sure; when and which camera; where.

    Args:
        caption: The facts.
        chinese: Chinese class names and field labels (needs a CJK font to draw), else English.
    """
    labels = _LABELS[chinese]
    name = caption.name_zh if chinese else caption.name_en
    camera = caption.camera_name or labels["unknown"]
    return (
        f"{name}  {labels['confidence']} {caption.confidence:.2f}",
        f"{labels['time']} {_time_text(caption, chinese)}   {labels['camera']} {camera}",
        f"{labels['location']} {_location_text(caption.location, labels['unknown'])}",
    )


def _time_text(caption: EvidenceCaption, chinese: bool) -> str:
    if caption.taken_at is not None:
        text = caption.taken_at.strftime("%Y-%m-%d %H:%M:%S")
        offset = caption.taken_at.strftime("%z")  # "+0800"; empty for a naive time
        return f"{text} UTC{offset[:3]}:{offset[3:]}" if offset else text
    if caption.source_time is None:
        return _LABELS[chinese]["unknown"]
    source = PurePath(caption.source_id).name if caption.source_id else ""
    if chinese:
        return f"{source} 第 {caption.source_time:.1f} 秒".strip()
    return f"{caption.source_time:.1f} s into {source}".strip() if source else f"{caption.source_time:.1f} s"


def _location_text(location: GeoPoint | None, unknown: str) -> str:
    if location is None:
        return unknown
    text = f"{location.lat:.6f}, {location.lon:.6f}"
    if location.accuracy_m is not None:
        text += f" ± {location.accuracy_m:.0f} m"
    return text


@lru_cache(maxsize=1)
def _shipped_taxonomy() -> Taxonomy:
    return load_taxonomy()

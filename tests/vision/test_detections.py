from __future__ import annotations

import numpy as np
import pytest

from vision import Detections, Frame, GeoPoint, box_iou


def make_detections(n: int = 3, *, tracked: bool = False) -> Detections:
    xyxy = np.array([[10 * i, 10 * i, 10 * i + 5, 10 * i + 8] for i in range(n)], np.float32)
    return Detections(
        xyxy=xyxy,
        confidence=np.linspace(0.9, 0.5, n),
        class_id=np.arange(n),
        track_id=np.arange(100, 100 + n) if tracked else None,
    )


def test_columns_are_normalised_to_dtypes() -> None:
    detections = make_detections()
    assert detections.xyxy.dtype == np.float32
    assert detections.confidence.dtype == np.float32
    assert detections.class_id.dtype == np.int64
    assert len(detections) == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"confidence": [0.5]}, "disagree in length"),
        ({"class_id": [1, 2, 3, 4]}, "disagree in length"),
        ({"track_id": [1]}, "track_id has length"),
        ({"xyxy": [[0, 0, np.nan, 1], [0, 0, 1, 1]]}, "NaN"),
        ({"xyxy": [[5, 0, 1, 1], [0, 0, 1, 1]]}, "x2 >= x1"),
    ],
)
def test_invalid_columns_are_rejected(kwargs: dict[str, object], message: str) -> None:
    columns: dict[str, object] = {
        "xyxy": [[0, 0, 1, 1], [0, 0, 2, 2]],
        "confidence": [0.5, 0.6],
        "class_id": [0, 1],
    }
    columns.update(kwargs)
    with pytest.raises(ValueError, match=message):
        Detections(**columns)  # type: ignore[arg-type]


def test_boolean_mask_and_integer_indexing_keep_rows_together() -> None:
    detections = make_detections(4, tracked=True)
    kept = detections[detections.confidence > 0.7]
    assert len(kept) == 2
    assert kept.track_id is not None
    assert kept.track_id.tolist() == [100, 101]
    single = detections[2]
    assert single.class_id.tolist() == [2]
    assert single.xyxy.shape == (1, 4)


def test_empty_and_merge() -> None:
    empty = Detections.empty()
    assert len(empty) == 0
    merged = Detections.merge([make_detections(2), empty, make_detections(3)])
    assert len(merged) == 5
    assert merged.track_id is None
    tracked = Detections.merge([make_detections(2, tracked=True), make_detections(1, tracked=True)])
    assert tracked.track_id is not None
    assert tracked.track_id.tolist() == [100, 101, 100]
    assert len(Detections.merge([])) == 0


def test_box_iou_known_values() -> None:
    a = np.array([[0, 0, 10, 10]], np.float32)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], np.float32)
    assert box_iou(a, b)[0].tolist() == pytest.approx([1.0, 1 / 3, 0.0])


def test_frame_checks_image_and_geo_checks_range() -> None:
    image = np.zeros((4, 6, 3), np.uint8)
    frame = Frame(image=image, source_id="cam", index=0, timestamp=0.0)
    assert (frame.width, frame.height) == (6, 4)
    with pytest.raises(ValueError, match="cam"):
        Frame(image=np.zeros((4, 6), np.uint8), source_id="cam", index=0, timestamp=0.0)
    with pytest.raises(ValueError, match="latitude"):
        GeoPoint(lat=91.0, lon=0.0)

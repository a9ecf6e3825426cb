"""A fixed camera's reference image explains a static object by where it usually is, not by its best view."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest

from service.pipeline.baseline import Baseline
from service.pipeline.source import PipelineSettings, SourcePipeline
from service.pipeline.wiring import reference_baseline
from vision.detections import Detections
from vision.frame import Frame
from vision.sighting import Sighting
from vision.taxonomy import load_taxonomy

NAMES = load_taxonomy().class_names
START = datetime(2026, 5, 6, 2, 0, tzinfo=UTC)
GOODS = (200.0, 100.0, 260.0, 130.0)  # boxes stacked by a shop: the detector calls them a stall, every day
WITH_PASSER_BY = (190.0, 95.0, 270.0, 200.0)  # someone in front of them: the box grows down to his feet


class GoodsDetector:
    """Sees the goods as a vendor stall all along; for ``crowded`` seconds a passer-by stretches the box."""

    def __init__(self, crowded: tuple[float, float], moved_to: Sequence[float] | None = None) -> None:
        self.crowded = crowded
        self.moved_to = moved_to

    def detect_frames(self, frames: Sequence[Frame]) -> list[Detections]:
        out = []
        for frame in frames:
            t = frame.timestamp
            box = self.moved_to if self.moved_to is not None and t > 0 else GOODS
            confidence = 0.4
            if self.crowded[0] <= t <= self.crowded[1]:
                box, confidence = WITH_PASSER_BY, 0.7  # larger and more confident: the best view of the track
            out.append(
                Detections(
                    xyxy=np.array([box], np.float32),
                    confidence=np.array([confidence], np.float32),
                    class_id=np.array([NAMES.index("vendor_stall")], np.int64),
                )
            )
        return out


def frames(seconds: float, fps: float = 2.0) -> Iterator[Frame]:
    image = np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    for index in range(int(seconds * fps)):
        yield Frame(image=image, source_id="street.mp4", index=index, timestamp=index / fps)


def tracked(detector: GoodsDetector) -> tuple[Sighting, Baseline]:
    reference = next(frames(1.0))
    baseline = Baseline(detector.detect_frames([reference])[0], NAMES, START)
    seen: list[Sighting] = []
    SourcePipeline(detector, PipelineSettings.for_camera("fixed", NAMES, 2.0)).run(frames(300.0), seen.append)
    [sighting] = seen
    return sighting, baseline


def test_scenery_whose_best_view_was_stretched_by_a_passer_by_is_still_in_the_reference() -> None:
    sighting, baseline = tracked(GoodsDetector(crowded=(150.0, 155.0)))
    np.testing.assert_allclose(sighting.best_box, WITH_PASSER_BY)  # by the best box alone it is a new object
    assert baseline.explains(sighting) is not None


@pytest.mark.parametrize("moved_to", [(40.0, 100.0, 100.0, 130.0), (200.0, 140.0, 260.0, 200.0)])
def test_an_object_that_stands_elsewhere_is_new(moved_to: Sequence[float]) -> None:
    sighting, baseline = tracked(GoodsDetector(crowded=(-1.0, -1.0), moved_to=moved_to))
    assert baseline.explains(sighting) is None


def _seen_as(class_name: str, box: Sequence[float]) -> Sighting:
    frame = next(frames(1.0))
    return Sighting(
        source_id="street.mp4",
        track_id=1,
        class_id=NAMES.index(class_name),
        class_name=class_name,
        first_time=0.0,
        last_time=300.0,
        frames_seen=600,
        score=0.5,
        best_frame=frame,
        best_box=np.asarray(box, np.float32),
    )


def _reference_of(class_name: str, box: Sequence[float], **changes: object) -> Baseline:
    shown = Detections(
        xyxy=np.array([box], np.float32),
        confidence=np.array([0.3], np.float32),
        class_id=np.array([NAMES.index(class_name)], np.int64),
    )
    return Baseline(shown, NAMES, START, **changes)  # type: ignore[arg-type]


def test_a_class_the_detector_takes_for_the_references_on_the_same_object_is_explained_by_it() -> None:
    """The window ad read as a poster in the reference is the same ad: not new, and the reason says how it was seen."""
    reference = _reference_of("poster", GOODS, lookalikes=(("poster", "win_ad"),))
    reason = reference.explains(_seen_as("win_ad", GOODS))
    assert reason == "in the reference image of 2026-05-06T02:00+00:00 (seen there as poster): not new"
    assert reference.explains(_seen_as("poster", GOODS)) == "in the reference image of 2026-05-06T02:00+00:00: not new"


def test_classes_outside_the_lookalike_groups_are_new_where_the_reference_shows_another_class() -> None:
    reference = _reference_of("poster", GOODS, lookalikes=(("poster", "win_ad"),))
    assert reference.explains(_seen_as("vendor_stall", GOODS)) is None  # a stall set up in front of the poster
    assert _reference_of("poster", GOODS).explains(_seen_as("win_ad", GOODS)) is None  # no groups: same class only
    assert reference.explains(_seen_as("win_ad", (20.0, 20.0, 60.0, 60.0))) is None  # elsewhere in the view


class ShownAs:
    """A detector that sees one object of ``class_name`` at ``GOODS`` in every frame."""

    def __init__(self, class_name: str) -> None:
        self.class_name = class_name

    def detect_frames(self, frames: Sequence[Frame]) -> list[Detections]:
        return [_reference_of(self.class_name, GOODS).detections for _ in frames]


def test_the_services_reference_knows_the_shipped_detectors_lookalikes() -> None:
    reference = next(frames(1.0))
    baseline = reference_baseline(ShownAs("poster"), replace(reference, wall_time=START))
    assert baseline.explains(_seen_as("win_ad", GOODS)) is not None
    assert baseline.explains(_seen_as("vendor_stall", GOODS)) is None

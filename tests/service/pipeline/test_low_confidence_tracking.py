"""Tracking with two confidences: the model is asked for detections below its operating confidence, which only
continue tracks started at it, so a weak detector's flickering object becomes one sighting instead of pieces."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest
from factories.detectors import FAKE_NAMES, BrightnessDetector

from service.pipeline.source import ModelDetector, PipelineSettings, SourcePipeline
from service.pipeline.wiring import detector_confidence, reference_baseline, tracking_settings
from service.scan.frames import GatedDetector
from vision.detections import Detections
from vision.frame import Frame
from vision.gate import GateSettings, MotionGate
from vision.sighting import Sighting

BOX = (40.0, 30.0, 90.0, 80.0)
# A stall a weak detector sees at 0.3-0.5 now and then, at 0.1-0.2 in between (0.4 x 0.25 = 0.1 and up is asked for).
FLICKER = [0.5, 0.4, 0.15, 0.12, 0.2, 0.3, 0.11, 0.18, 0.14, 0.35, 0.12, 0.16]


def flat(level: float) -> np.ndarray:
    """A frame BrightnessDetector finds its stall in at confidence ``level``."""
    return np.full((64, 64, 3), round(level * 255), np.uint8)


class ListedDetector:
    """Finds BOX at the confidence listed for each frame index (nothing below ``floor``, as a model asked for it)."""

    def __init__(self, confidences: Sequence[float], floor: float = 0.1) -> None:
        self.confidences = confidences
        self.floor = floor

    def detect_frames(self, frames: Sequence[Frame]) -> list[Detections]:
        out = []
        for frame in frames:
            level = self.confidences[frame.index]
            rows = 1 if level >= self.floor else 0
            out.append(
                Detections(
                    xyxy=np.array([BOX] * rows, np.float32).reshape(-1, 4),
                    confidence=np.full(rows, level, np.float32),
                    class_id=np.zeros(rows, np.int64),
                )
            )
        return out


def track(detector: ListedDetector, settings: PipelineSettings) -> list[Sighting]:
    image = np.zeros((120, 160, 3), np.uint8)
    frames = [Frame(image, "patrol.mp4", index, index / 5.0) for index in range(len(detector.confidences))]
    sightings: list[Sighting] = []
    SourcePipeline(detector, settings).run(frames, sightings.append)
    return sightings


@pytest.mark.parametrize(
    ("level", "conf", "low_ratio", "found"),
    [
        (0.15, None, 0.4, True),  # card default 0.25: asked down to 0.1
        (0.08, None, 0.4, False),
        (0.15, 0.5, 0.4, False),  # --conf 0.5: asked down to 0.2
        (0.22, 0.5, 0.4, True),
        (0.15, None, 1.0, False),  # low_ratio 1: only the operating confidence
    ],
)
def test_the_model_is_asked_for_detections_down_to_low_ratio_of_its_operating_confidence(
    level: float, conf: float | None, low_ratio: float, found: bool
) -> None:
    detector = ModelDetector(BrightnessDetector(level=0.0), conf, low_ratio)
    detections = detector.detect_frames([Frame(flat(level), "cam", 0, 0.0)])[0]
    assert (len(detections) == 1) is found


def test_the_operating_confidence_is_the_given_one_or_the_cards() -> None:
    assert ModelDetector(BrightnessDetector(default_conf=0.3)).operating_conf == pytest.approx(0.3)
    assert ModelDetector(BrightnessDetector(default_conf=0.3), 0.45).operating_conf == pytest.approx(0.45)
    gated = GatedDetector(ModelDetector(BrightnessDetector(), 0.45), MotionGate(GateSettings()))
    assert detector_confidence(gated) == pytest.approx(0.45)
    assert detector_confidence(ListedDetector(FLICKER)) == pytest.approx(0.25)  # a detector that does not say


@pytest.mark.parametrize("low_ratio", [0.0, 1.2])
def test_low_ratio_must_be_a_fraction(low_ratio: float) -> None:
    with pytest.raises(ValueError, match="low_ratio"):
        ModelDetector(BrightnessDetector(), low_ratio=low_ratio)


@pytest.mark.parametrize("kind", ["patrol", "fixed"])
def test_a_flickering_object_is_one_sighting_over_all_its_frames(kind: str) -> None:
    sightings = track(ListedDetector(FLICKER), PipelineSettings.for_camera(kind, FAKE_NAMES, 5.0))
    assert len(sightings) == 1
    assert sightings[0].frames_seen == len(FLICKER)  # the first too, though the track is confirmed by its second
    # Scored over the track: the mean of its five best tracked confidences, not dragged down by the dips.
    assert sightings[0].score == pytest.approx(np.mean(sorted(FLICKER)[-5:]))


def test_without_the_low_detections_the_same_object_is_seen_in_a_few_frames_only() -> None:
    # What tracking saw before: the frames at 0.25 and up.
    (alone,) = track(ListedDetector(FLICKER, floor=0.25), PipelineSettings.for_camera("patrol", FAKE_NAMES, 5.0))
    assert alone.frames_seen == 4


def test_an_object_seen_only_below_the_operating_confidence_is_no_sighting() -> None:
    weak = [min(level, 0.2) for level in FLICKER]
    assert track(ListedDetector(weak), PipelineSettings.for_camera("patrol", FAKE_NAMES, 5.0)) == []


def test_tracks_start_at_the_detectors_operating_confidence() -> None:
    strict = ModelDetector(BrightnessDetector(), 0.6)  # no frame of FLICKER reaches 0.6: no track starts
    assert track(ListedDetector(FLICKER), tracking_settings("patrol", strict, 5.0)) == []
    usual = ModelDetector(BrightnessDetector())
    assert len(track(ListedDetector(FLICKER), tracking_settings("patrol", usual, 5.0))) == 1


def test_the_reference_image_is_read_down_to_a_lower_confidence_than_tracked_frames() -> None:
    # An object the model sees at 0.07 in the reference: too weak to track (0.4 x 0.25 = 0.1), but it was there.
    detector = ModelDetector(BrightnessDetector(level=0.0))
    reference = Frame(flat(0.07), "cam", 0, 0.0, wall_time=datetime(2026, 5, 6, 2, 0, tzinfo=UTC))
    assert len(detector.detect_frames([reference])[0]) == 0
    baseline = reference_baseline(detector, reference)
    assert len(baseline.detections) == 1
    later = Sighting(
        source_id="cam",
        track_id=1,
        class_id=0,
        class_name=FAKE_NAMES[0],
        first_time=0.0,
        last_time=300.0,
        frames_seen=600,
        score=0.3,
        best_frame=reference,
        best_box=baseline.detections.xyxy[0],
    )
    assert baseline.explains(later) is not None
    darker = replace(reference, image=flat(0.04))  # below 0.2 x 0.25: nothing there
    assert len(reference_baseline(detector, darker).detections) == 0

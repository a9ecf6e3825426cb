from __future__ import annotations

import pytest
from factories.detectors import FAKE_NAMES, BrightnessDetector
from factories.media import CAR_VIDEO
from factories.tracking import make_detections, make_frame, moving_box

from vision.detections import Detections
from vision.frame import Frame
from vision.sources import Sampling, open_source
from vision.track import SightingBuilder, SightingSettings, Tracker, TrackerSettings, track_sightings

NAMES = ("vendor_stall", "goods_outside_shop", "material_pile", "banner")


def compose(frames: list[tuple[Frame, Detections]], lost_s: float = 2.0) -> list:
    tracker = Tracker(TrackerSettings(lost_track_buffer_s=lost_s))
    builder = SightingBuilder(SightingSettings(class_names=NAMES, lost_after_s=lost_s))
    return list(track_sightings(frames, tracker, builder))


def test_two_close_objects_in_one_frame_are_two_sightings() -> None:
    boxes = [[20, 40, 60, 100], [62, 42, 102, 101]]
    sightings = compose([(make_frame(k), make_detections(boxes, class_id=[0, 0])) for k in range(8)])
    assert [(s.track_id, s.frames_seen) for s in sightings] == [(1, 8), (2, 8)]
    assert [s.best_box.tolist() for s in sightings] == [[20, 40, 60, 100], [62, 42, 102, 101]]


def test_an_object_gone_longer_than_the_lost_time_comes_back_as_a_new_sighting() -> None:
    present = [True] * 6 + [False] * 6 + [True] * 6  # gone for 3 s, lost after 2 s
    frames = [
        (make_frame(k), make_detections([moving_box((10, 10, 50, 60), (2, 0), k)] if here else []))
        for k, here in enumerate(present)
    ]
    sightings = compose(frames)
    assert [(s.track_id, s.first_time, s.last_time, s.frames_seen) for s in sightings] == [
        (1, 0.0, 2.5, 6),
        (2, 6.0, 8.5, 6),
    ]


def test_sightings_come_out_as_their_tracks_end() -> None:
    frames = [(make_frame(k), make_detections([[10, 10, 50, 60]] if k < 4 else [])) for k in range(20)]
    tracker = Tracker(TrackerSettings(lost_track_buffer_s=1.0))
    builder = SightingBuilder(SightingSettings(class_names=NAMES, lost_after_s=1.0))
    stream = track_sightings(iter(frames), tracker, builder)
    first = next(stream)
    assert first.last_time == 1.5 and builder.open_tracks == 0
    assert list(stream) == []


@pytest.mark.skipif(not CAR_VIDEO.exists(), reason="needs ../shared/data")
def test_a_real_video_with_a_fake_detector_gives_one_sighting() -> None:
    # Fires on every frame of this video: one centred 'vendor_stall' whose confidence is the mean brightness / 255,
    # 0.23 to 0.48 here; frames below the tracker's 0.25 only continue the track (ByteTrack's second stage).
    detector = BrightnessDetector(level=50.0)
    tracker = Tracker(TrackerSettings(frame_rate=2.0))
    builder = SightingBuilder(SightingSettings(class_names=FAKE_NAMES))
    with open_source(CAR_VIDEO, sampling=Sampling.per_second(2)) as source:
        frames = [(frame, detector.detect([frame.image], conf=0.1)[0]) for frame in source]
    [sighting] = track_sightings(frames, tracker, builder)
    assert (sighting.class_name, sighting.frames_seen) == ("vendor_stall", len(frames))
    assert (sighting.first_time, sighting.last_time) == (frames[0][0].timestamp, frames[-1][0].timestamp)
    assert sighting.dwell_seconds > 29
    height, width = sighting.best_frame.height, sighting.best_frame.width
    assert sighting.best_box.tolist() == [width * 0.25, height * 0.25, width * 0.75, height * 0.75]
    assert 0.4 < sighting.score < 0.5

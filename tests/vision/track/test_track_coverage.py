"""How steadily an object was detected while in view: its frame span among the frames tracked, and its coverage."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from factories.tracking import make_detections, make_frame, moving_box

from vision.sighting import Sighting
from vision.track import (
    SightingBuilder,
    SightingSettings,
    StationaryMerger,
    StationarySettings,
    Tracker,
    TrackerSettings,
    track_sightings,
)

NAMES = ("vendor_stall", "goods_outside_shop", "material_pile", "banner")
BOX = [20.0, 30.0, 70.0, 90.0]


def test_frames_without_a_detection_count_among_the_frames_tracked() -> None:
    builder = SightingBuilder(SightingSettings(class_names=NAMES, lost_after_s=10.0))
    for index in range(10):  # detected in every other frame of ten, from frame 2 to frame 8
        seen = index in (2, 4, 6, 8)
        builder.update(make_frame(index), make_detections([BOX] if seen else [], track_id=[5] if seen else []))
    [sighting] = builder.flush()
    assert sighting.frame_span == (2, 8)
    assert (sighting.frames_seen, sighting.frames_tracked) == (4, 7)
    assert sighting.coverage == pytest.approx(4 / 7)


def test_the_span_counts_frames_handed_to_tracking_not_the_videos_frame_numbers() -> None:
    """Sampling and a motion gate skip frames of the video: those could not have shown the object."""
    builder = SightingBuilder(SightingSettings(class_names=NAMES, lost_after_s=100.0))
    for index in (0, 25, 50, 400, 425):  # every 25th frame, then a gap the gate skipped
        builder.update(make_frame(index, index / 25), make_detections([BOX], track_id=[1]))
    [sighting] = builder.flush()
    assert (sighting.frame_span, sighting.frames_tracked, sighting.coverage) == ((0, 4), 5, 1.0)


def test_a_tracks_first_detection_starts_its_span() -> None:
    """ByteTrack gives a track its id on its second detection; the first one's frame is where its span starts."""
    frames = [(make_frame(k), make_detections([moving_box(BOX, (2, 0), k)] if 3 <= k <= 6 else [])) for k in range(12)]
    tracker = Tracker(TrackerSettings(lost_track_buffer_s=2.0))
    builder = SightingBuilder(SightingSettings(class_names=NAMES, lost_after_s=2.0))
    [sighting] = track_sightings(frames, tracker, builder)
    assert sighting.frame_span == (3, 6)
    assert (sighting.frames_seen, sighting.coverage) == (4, 1.0)


def test_a_new_source_counts_from_zero_again() -> None:
    builder = SightingBuilder(SightingSettings(class_names=NAMES))
    for index in range(3):
        builder.update(make_frame(index), make_detections([], track_id=[]))
    builder.update(make_frame(3), make_detections([BOX], track_id=[1]))
    [first] = builder.flush()
    builder.update(make_frame(0), make_detections([BOX], track_id=[1]))
    [second] = builder.flush()
    assert (first.frame_span, second.frame_span) == ((3, 3), (0, 0))


def _piece(track_id: int, first: int, last: int, frames: int) -> Sighting:
    frame = make_frame(last, last / 2)
    return Sighting(
        source_id="clip.mp4",
        track_id=track_id,
        class_id=0,
        class_name="vendor_stall",
        first_time=first / 2,
        last_time=last / 2,
        frames_seen=frames,
        score=0.5,
        best_frame=frame,
        best_box=np.asarray(BOX, np.float32),
        top_confidences=(0.5,),
        frame_span=(first, last),
    )


def test_pieces_of_one_static_object_span_from_the_first_ones_first_frame_to_the_last_ones_last() -> None:
    pieces = [_piece(1, 0, 99, 90), _piece(2, 150, 299, 140)]  # lost for 25 s in between
    [merged] = StationaryMerger(StationarySettings(max_gap_s=60.0)).merge(pieces)
    assert merged.frame_span == (0, 299)
    assert merged.frames_seen == 230
    assert merged.coverage == pytest.approx(230 / 300)


def test_a_piece_whose_span_is_unknown_leaves_the_merged_span_unknown() -> None:
    pieces = [_piece(1, 0, 99, 90), replace(_piece(2, 150, 299, 140), frame_span=None)]
    [merged] = StationaryMerger(StationarySettings(max_gap_s=60.0)).merge(pieces)
    assert (merged.frame_span, merged.frames_tracked, merged.coverage) == (None, None, None)


def test_coverage_is_at_most_one_and_a_reversed_span_is_refused() -> None:
    assert _piece(1, 10, 11, 5).coverage == 1.0  # twin tracks on one object may count a frame twice
    with pytest.raises(ValueError, match="frame_span"):
        replace(_piece(1, 0, 5, 3), frame_span=(6, 5))

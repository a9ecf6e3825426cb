"""A sighting's typical box: where a static object usually is, as opposed to where its best view put its box."""

from __future__ import annotations

import numpy as np
from factories.tracking import FPS, make_detections, make_frame, textured_image

from vision.track import SightingBuilder, SightingSettings
from vision.track.sightings import BOX_SAMPLE

NAMES = ("vendor_stall", "banner")
STALL = (40.0, 40.0, 80.0, 70.0)
STRETCHED = (30.0, 35.0, 100.0, 115.0)  # a passer-by in front: the box grows down to his feet


def test_the_typical_box_is_the_median_box_not_the_best_view() -> None:
    builder = SightingBuilder(SightingSettings(NAMES))
    image = textured_image(120, 160)
    for index in range(20):
        box, confidence = (STRETCHED, 0.9) if index in (7, 8) else (STALL, 0.4)
        builder.update(make_frame(index, image=image), make_detections([box], confidence, track_id=[1]))
    [sighting] = builder.flush()
    np.testing.assert_allclose(sighting.best_box, STRETCHED)  # larger and more confident: the best view
    assert sighting.typical_box is not None
    np.testing.assert_allclose(sighting.typical_box, STALL)
    np.testing.assert_allclose(sighting.place_boxes, [STRETCHED, STALL])


def test_the_box_sample_is_spread_over_a_long_track() -> None:
    # The object drifts right by one pixel a frame over 1000 frames, far more than the BOX_SAMPLE boxes kept: the
    # median of an even sample is mid-track, not near its start.
    assert BOX_SAMPLE < 1000
    builder = SightingBuilder(SightingSettings(NAMES))
    for index in range(1000):
        box = (10.0 + index, 10.0, 30.0 + index, 30.0)
        builder.update(make_frame(index), make_detections([box], 0.5, track_id=[1]))
    [sighting] = builder.flush()
    assert sighting.typical_box is not None
    assert abs(float(sighting.typical_box[0]) - 509.5) <= 16.0


def test_the_path_keeps_each_sampled_box_with_its_time() -> None:
    # A patrol camera drives past: the box slides left as the frames go by; the path pairs box and time.
    builder = SightingBuilder(SightingSettings(NAMES))
    for index in range(5):
        box = (100.0 - 10 * index, 20.0, 120.0 - 10 * index, 40.0)
        builder.update(make_frame(index, timestamp=0.2 * index), make_detections([box], 0.5, track_id=[1]))
    [sighting] = builder.flush()
    assert sighting.path is not None and len(sighting.path) == 5
    np.testing.assert_allclose(sighting.path.times, [0.0, 0.2, 0.4, 0.6, 0.8])
    np.testing.assert_allclose(sighting.path.boxes[:, 0], [100.0, 90.0, 80.0, 70.0, 60.0])


def test_a_long_track_path_stays_paired_after_thinning() -> None:
    builder = SightingBuilder(SightingSettings(NAMES))
    for index in range(1000):
        builder.update(make_frame(index), make_detections([(float(index), 0.0, index + 5.0, 5.0)], 0.5, track_id=[1]))
    [sighting] = builder.flush()
    assert sighting.path is not None and len(sighting.path) <= BOX_SAMPLE
    np.testing.assert_allclose(sighting.path.boxes[:, 0], sighting.path.times * FPS)  # box x is the frame index

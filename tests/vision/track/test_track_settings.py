from __future__ import annotations

import sys

import pytest

from vision.errors import VisionError
from vision.track import Tracker, TrackerSettings


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("frame_rate", 0.0),
        ("lost_track_buffer_s", -1.0),
        ("track_activation_threshold", 1.5),
        ("high_confidence_threshold", -0.1),
        ("minimum_matching_threshold", 2.0),
        ("similarity", "cosine"),
        ("buffer_ratio", -0.5),
        ("class_groups", ((0, 1), (1, 2))),
        ("motion_compensation", "gyro"),
        ("motion_downscale", 0),
    ],
)
def test_bad_settings_name_the_field(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        TrackerSettings(**{field: value})  # type: ignore[arg-type]


@pytest.mark.parametrize(("seconds", "frames"), [(3.0, 90), (0.7, 21), (2.3, 69), (0.01, 0), (0.0, 0)])
def test_lost_buffer_is_rounded_down_to_library_frames(seconds: float, frames: int) -> None:
    assert TrackerSettings(lost_track_buffer_s=seconds).lost_track_frames_30fps == frames


def test_patrol_preset_keeps_other_changes() -> None:
    settings = TrackerSettings.patrol(frame_rate=5.0, buffer_ratio=1.0)
    assert (settings.frame_rate, settings.motion_compensation, settings.buffer_ratio) == (5.0, "orb", 1.0)


def test_a_missing_trackers_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "trackers", None)
    with pytest.raises(VisionError, match=r"pip install 'trackers>=2\.6,<3'"):
        Tracker()

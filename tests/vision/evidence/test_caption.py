"""Caption text: Chinese or English names from the taxonomy, time with its offset, place with its uncertainty."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from factories.evidence import make_sighting

from vision.evidence import EvidenceCaption, box_label, caption_for_sighting, caption_lines
from vision.frame import GeoPoint


def test_chinese_caption_has_every_fact() -> None:
    caption = caption_for_sighting(make_sighting(), camera_name="东门路口")
    lines = caption_lines(caption, chinese=True)
    assert lines == (
        "流动摊贩  置信度 0.87",
        "时间 2024-06-11 14:03:22 UTC+08:00   摄像头 东门路口",
        "位置 31.230416, 121.473701 ± 8 m",
    )
    assert box_label(caption, chinese=True) == "流动摊贩 0.87"


def test_english_caption_uses_english_names() -> None:
    caption = caption_for_sighting(make_sighting(class_name="banner", class_id=3), camera_name="East gate")
    lines = caption_lines(caption, chinese=False)
    assert lines[0] == "Banner  confidence 0.87"
    assert lines[1] == "time 2024-06-11 14:03:22 UTC+08:00   camera East gate"
    assert lines[2] == "location 31.230416, 121.473701 ± 8 m"
    assert box_label(caption, chinese=False) == "banner 0.87"


def test_without_wall_time_the_source_time_is_shown() -> None:
    caption = caption_for_sighting(make_sighting(wall_time=None, timestamp=12.34))
    assert "12.3 s into patrol-2024-06-11.mp4" in caption_lines(caption, chinese=False)[1]
    assert "patrol-2024-06-11.mp4 第 12.3 秒" in caption_lines(caption, chinese=True)[1]


@pytest.mark.parametrize(("chinese", "unknown"), [(True, "未知"), (False, "unknown")])
def test_unknown_camera_and_location_are_said(chinese: bool, unknown: str) -> None:
    caption = caption_for_sighting(make_sighting(location=None))
    lines = caption_lines(caption, chinese=chinese)
    assert lines[1].endswith(unknown)
    assert lines[2].endswith(unknown)


def test_location_argument_overrides_and_accuracy_is_optional() -> None:
    caption = caption_for_sighting(make_sighting(), location=GeoPoint(22.5, 114.05))
    assert caption_lines(caption, chinese=False)[2] == "location 22.500000, 114.050000"


def test_class_outside_the_taxonomy_keeps_its_name() -> None:
    caption = caption_for_sighting(make_sighting(class_name="shared_bicycle", class_id=42))
    assert (caption.name_zh, caption.name_en) == ("shared_bicycle", "shared_bicycle")
    assert caption_lines(caption, chinese=True)[0].startswith("shared_bicycle")


def test_utc_time_shows_zero_offset() -> None:
    caption = EvidenceCaption(0, "poster", "小广告", "Poster", 0.5, taken_at=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert "2024-01-02 03:04:05 UTC+00:00" in caption_lines(caption, chinese=False)[1]

"""Sampling settings and the frame selector that applies them."""

from __future__ import annotations

import pytest

from vision.sources import FrameSelector, Sampling


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("all", Sampling.every_frame()),
        ("keyframes", Sampling.keyframes()),
        ("2fps", Sampling.per_second(2.0)),
        ("0.5 FPS", Sampling.per_second(0.5)),
        ("5", Sampling.per_second(5.0)),
    ],
)
def test_parse_reads_command_line_spellings(text: str, expected: Sampling) -> None:
    assert Sampling.parse(text) == expected


@pytest.mark.parametrize("text", ["", "fast", "-1fps", "0", "nanfps"])
def test_parse_rejects_nonsense(text: str) -> None:
    with pytest.raises(ValueError, match="sampling"):
        Sampling.parse(text)


def test_default_is_two_frames_per_second() -> None:
    assert Sampling() == Sampling(mode="fps", fps=2.0)
    assert str(Sampling()) == "2 fps"


def test_bad_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="mode"):
        Sampling(mode="sometimes")  # type: ignore[arg-type]


def test_fps_keeps_first_frame_at_or_after_each_tick() -> None:
    selector = FrameSelector(Sampling.per_second(2.0))
    timestamps = [0.0, 0.3, 0.55, 0.6, 1.2, 2.9, 3.0, 3.4, 3.5]
    kept = [t for t in timestamps if selector.accept(t, keyframe=False)]
    # ticks 0.0, 0.5, 1.0, (1.5..2.5 have no frame of their own and are not repeated), 2.5, 3.0, 3.5
    assert kept == [0.0, 0.55, 1.2, 2.9, 3.0, 3.5]


def test_fps_tolerates_rounding_just_below_a_tick() -> None:
    selector = FrameSelector(Sampling.per_second(10.0))
    assert [selector.accept(t, False) for t in (0.0, 0.0999999999, 0.15)] == [True, True, False]


def test_keyframes_mode_keeps_only_keyframes() -> None:
    selector = FrameSelector(Sampling.keyframes())
    assert [selector.accept(0.0, True), selector.accept(0.1, False), selector.accept(0.2, True)] == [
        True,
        False,
        True,
    ]


@pytest.mark.parametrize(
    ("sampling", "duration", "frame_count", "expected"),
    [
        (Sampling.every_frame(), 30.16, 377, 377),
        (Sampling.every_frame(), 30.16, None, None),
        (Sampling.per_second(2.0), 30.16, 377, 61),
        (Sampling.per_second(2.0), 1.0, None, 2),
        (Sampling.per_second(100.0), 1.0, 25, 25),
        (Sampling.keyframes(), 30.16, 377, None),
        (Sampling(), None, None, None),
    ],
)
def test_expected_count(
    sampling: Sampling, duration: float | None, frame_count: int | None, expected: int | None
) -> None:
    assert sampling.expected_count(duration, frame_count) == expected

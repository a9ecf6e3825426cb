"""The motion gate on numpy street scenes: noise and compression stay still, objects and light changes pass."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from vision.frame import Frame
from vision.gate import GateSettings, MotionGate

Image = npt.NDArray[np.uint8]
HEIGHT, WIDTH = 360, 640


def street(seed: int = 0) -> Image:
    """Sky, facades and a road with markings, over a fine texture for noise to hide in."""
    rng = np.random.default_rng(seed)
    texture = cv2.GaussianBlur(rng.normal(0, 12, (HEIGHT, WIDTH, 3)).astype(np.float32), (0, 0), 2)
    scene = np.zeros((HEIGHT, WIDTH, 3), np.float32)
    scene[:100] = (215, 200, 190)  # sky
    scene[100:240] = (120, 130, 140)
    scene[240:] = (60, 60, 65)  # road
    for left in range(0, WIDTH, 160):
        scene[110:230, left + 10 : left + 120] = (70 + left // 6, 150 - left // 8, 90 + left // 10)
    for left in range(0, WIDTH, 80):
        scene[300:306, left : left + 40] = 230  # lane marks
    return np.clip(scene + texture, 0, 255).astype(np.uint8)


def noisy(image: Image, rng: np.random.Generator, sigma: float = 6.0, quality: int = 70) -> Image:
    """The image with fresh sensor noise and JPEG compression, as a camera delivers a static view."""
    grainy = np.clip(image.astype(np.float32) + rng.normal(0, sigma, image.shape), 0, 255).astype(np.uint8)
    _, encoded = cv2.imencode(".jpg", grainy, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return np.asarray(cv2.imdecode(encoded, cv2.IMREAD_COLOR), np.uint8)


def resized(image: Image, width: int, height: int) -> Image:
    return np.asarray(cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA), np.uint8)


def frame(image: Image, timestamp: float) -> Frame:
    return Frame(image=image, source_id="cam", index=round(timestamp * 10), timestamp=timestamp)


def with_box(image: Image, box: tuple[int, int, int, int], colour: tuple[int, int, int] = (20, 30, 240)) -> Image:
    drawn = image.copy()
    x1, y1, x2, y2 = box
    drawn[y1:y2, x1:x2] = colour
    return drawn


def test_static_noisy_compressed_view_is_skipped() -> None:
    gate = MotionGate(GateSettings(force_every_s=0))
    rng = np.random.default_rng(1)
    base = street()

    decisions = [gate.check(frame(noisy(base, rng), 0.5 * i)) for i in range(30)]

    assert decisions[0].changed and decisions[0].reason == "first"
    assert not any(decision.changed for decision in decisions[1:])
    assert {decision.reason for decision in decisions[1:]} == {"still"}
    assert max(decision.score for decision in decisions[1:]) < GateSettings().min_changed_fraction


@pytest.mark.parametrize(
    "box",
    [(300, 150, 340, 230), (500, 250, 512, 280)],  # a pedestrian nearby; a small far-away one (12 x 30 px)
    ids=["near", "far"],
)
def test_a_new_object_passes_then_settles(box: tuple[int, int, int, int]) -> None:
    gate = MotionGate(GateSettings(force_every_s=0))
    rng = np.random.default_rng(2)
    base = street()
    gate.check(frame(noisy(base, rng), 0.0))

    arrived = gate.check(frame(noisy(with_box(base, box), rng), 0.5))
    stays = [gate.check(frame(noisy(with_box(base, box), rng), 1.0 + 0.5 * i)) for i in range(5)]
    leaves = gate.check(frame(noisy(base, rng), 4.0))

    assert arrived.changed and arrived.reason == "motion"
    assert arrived.score >= GateSettings().min_changed_fraction
    assert not any(decision.changed for decision in stays)  # compared with the frame that passed
    assert leaves.changed and leaves.reason == "motion"


def test_global_brightness_step_passes_once_then_settles() -> None:
    gate = MotionGate(GateSettings(force_every_s=0))
    rng = np.random.default_rng(3)
    base = street()
    brighter = np.clip(base.astype(np.int16) + 45, 0, 255).astype(np.uint8)
    gate.check(frame(noisy(base, rng), 0.0))

    step = gate.check(frame(noisy(brighter, rng), 0.5))
    after = [gate.check(frame(noisy(brighter, rng), 1.0 + 0.5 * i)) for i in range(6)]

    assert step.changed and step.reason == "scene" and step.score > 0.4
    assert not any(decision.changed for decision in after)


def test_scene_cut_and_new_aspect_pass_as_scene_but_a_new_resolution_alone_does_not() -> None:
    gate = MotionGate(GateSettings(force_every_s=0))
    gate.check(frame(street(0), 0.0))

    other_view = street(9)[::-1].copy()  # the camera switched to another view: buildings below, not above
    cut = gate.check(frame(other_view, 0.5))
    half_size = gate.check(frame(resized(other_view, WIDTH // 2, HEIGHT // 2), 1.0))
    squarer = gate.check(frame(resized(other_view, WIDTH // 2, HEIGHT), 1.5))

    assert (cut.changed, cut.reason) == (True, "scene")
    assert (half_size.changed, half_size.reason) == (False, "still")  # compared at the same working size
    assert (squarer.changed, squarer.reason) == (True, "scene")


def test_forced_pass_every_interval_in_seconds() -> None:
    gate = MotionGate(GateSettings(force_every_s=2.0))
    rng = np.random.default_rng(4)
    base = street()

    times = [0.25 * i for i in range(25)]  # 6 s of a static view at 4 fps
    passed = [t for t in times if gate.check(frame(noisy(base, rng), t)).changed]

    assert passed == [0.0, 2.0, 4.0, 6.0]


def test_forced_interval_counts_from_the_last_pass_of_any_kind() -> None:
    gate = MotionGate(GateSettings(force_every_s=2.0))
    base = street()
    gate.check(frame(base, 0.0))
    assert gate.check(frame(with_box(base, (300, 150, 340, 230)), 1.5)).reason == "motion"

    assert not gate.check(frame(with_box(base, (300, 150, 340, 230)), 3.0)).changed
    assert gate.check(frame(with_box(base, (300, 150, 340, 230)), 3.5)).reason == "forced"


def test_ignored_region_changes_do_not_pass() -> None:
    clock = (0.0, 0.0, 0.3, 0.1)  # an on-screen clock in the top-left corner
    gate = MotionGate(GateSettings(force_every_s=0, ignore_boxes=(clock,)))
    base = street()
    gate.check(frame(base, 0.0))

    ticking = gate.check(frame(with_box(base, (5, 5, 180, 30), (255, 255, 255)), 1.0))
    outside = gate.check(frame(with_box(base, (300, 150, 340, 230)), 2.0))

    assert not ticking.changed and ticking.score == 0.0
    assert outside.changed


def test_clock_going_backwards_restarts_and_reset_forgets() -> None:
    gate = MotionGate(GateSettings(force_every_s=0))
    base = street()
    gate.check(frame(base, 10.0))

    assert gate.check(frame(base, 0.0)).reason == "first"
    assert not gate.check(frame(base, 0.5)).changed
    gate.reset()
    assert gate.check(frame(base, 1.0)).reason == "first"


@pytest.mark.parametrize(
    "changes",
    [
        {"working_width": 8},
        {"blur_kernel": 4},
        {"pixel_threshold": 0},
        {"min_changed_fraction": 0.5, "scene_fraction": 0.4},
        {"force_every_s": -1},
        {"ignore_boxes": ((0.5, 0.0, 0.2, 1.0),)},
    ],
)
def test_bad_settings_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        GateSettings(**changes)  # type: ignore[arg-type]

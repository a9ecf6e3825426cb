"""Unlabelled things that share the street with the violations: people, bikes, scooters, cars, trees,
lamps, bins, railings, planters. They occlude and confuse on purpose."""

from __future__ import annotations

import numpy as np

from vision.synth import textures
from vision.synth.painter import Painter
from vision.synth.primitives import Color, Primitive, SceneObject, Sprite
from vision.synth.shapes import Pose, ball, box, disc, rod

CLOTHES: tuple[Color, ...] = (
    (40, 40, 40), (200, 200, 200), (150, 80, 30), (40, 40, 170), (60, 120, 60), (100, 100, 100), (30, 60, 120),
    (180, 160, 120), (60, 160, 220), (120, 50, 100),
)  # fmt: skip
SKIN: tuple[Color, ...] = ((150, 180, 220), (120, 160, 205), (100, 140, 190))
CAR: tuple[Color, ...] = ((235, 235, 235), (30, 30, 30), (170, 170, 165), (40, 40, 160), (140, 90, 40), (90, 90, 90))


def _c(rng: np.random.Generator, palette: tuple[Color, ...], amount: float = 12) -> Color:
    return textures.jitter_color(rng, palette[int(rng.integers(len(palette)))], amount)


def person(rng: np.random.Generator, base: np.ndarray) -> SceneObject:
    """A pedestrian drawn as an upright figure (front, back or side view, mid-stride)."""
    height = float(rng.uniform(1.5, 1.85))
    shirt, pants, skin = _c(rng, CLOTHES, 25), _c(rng, CLOTHES, 20), _c(rng, SKIN, 8)
    hair = textures.jitter_color(rng, (25, 25, 30), 8)
    side_view = bool(rng.random() < 0.5)
    stride = float(rng.uniform(0.0, 0.35)) if side_view else float(rng.uniform(0.0, 0.1))
    bag = _c(rng, CLOTHES) if rng.random() < 0.3 else None
    long_coat = bool(rng.random() < 0.25)

    def draw(p: Painter, x: float, y: float, s: float) -> None:
        tall = height * s
        hip, shoulder = y - 0.5 * tall, y - 0.81 * tall
        half = (0.12 if side_view else 0.2) * s
        leg = 0.065 * s
        for sign in (-1, 1):
            foot_x = x + sign * stride / 2 * s
            hip_x = x + sign * (0.0 if side_view else 0.08 * s)
            p.fill(
                np.array([[hip_x - leg, hip], [hip_x + leg, hip], [foot_x + leg * 0.8, y], [foot_x - leg * 0.8, y]]),
                pants,
            )
            p.fill(
                np.array(
                    [
                        [foot_x - leg * 1.3, y - 0.04 * s],
                        [foot_x + leg * 1.6, y - 0.04 * s],
                        [foot_x + leg * 1.6, y],
                        [foot_x - leg * 1.3, y],
                    ]
                ),
                (30, 30, 30),
            )
        bottom = hip + (0.25 * tall if long_coat else 0.04 * tall)
        p.fill(
            np.array(
                [[x - half, shoulder], [x + half, shoulder], [x + half * 0.85, bottom], [x - half * 0.85, bottom]]
            ),
            shirt,
        )
        for sign in (-1, 1):
            swing = (stride * 0.6 * sign if side_view else 0.0) * s
            p.line(
                x + sign * half * 0.9,
                shoulder + 0.03 * s,
                x + sign * half * 1.1 + swing,
                y - 0.47 * tall,
                max(0.08 * s, 1),
                shirt,
            )
        if bag is not None:
            p.fill(
                np.array(
                    [
                        [x + half * 0.8, hip - 0.1 * s],
                        [x + half * 1.5, hip - 0.1 * s],
                        [x + half * 1.5, hip + 0.2 * s],
                        [x + half * 0.8, hip + 0.2 * s],
                    ]
                ),
                bag,
            )
        p.ellipse(x, y - 0.9 * tall, 0.075 * s, 0.1 * s, skin)
        p.ellipse(x, y - 0.92 * tall, 0.08 * s, 0.08 * s, hair)

    return SceneObject(
        "person",
        None,
        [Sprite(np.asarray(base, np.float64), height, 0.5, draw)],
        anchor=np.asarray(base) + np.array([0.0, 0.0, 0.9]),
    )


def two_wheeler(rng: np.random.Generator, base: np.ndarray, motor: bool, rider: bool) -> list[SceneObject]:
    """A bicycle or an electric scooter seen from the side (or obliquely), maybe ridden."""
    squash = float(rng.uniform(0.35, 1.0))  # how side-on it is seen
    wheel = 0.33 if not motor else 0.24
    length = 1.05 if not motor else 1.25
    body = _c(rng, CAR + CLOTHES, 25)
    direction = 1 if rng.random() < 0.5 else -1

    def draw(p: Painter, x: float, y: float, s: float) -> None:
        half = length / 2 * s * squash
        r = wheel * s
        for wx in (x - half, x + half):
            p.ellipse(wx, y - r, r * max(squash, 0.25), r, (25, 25, 25))
            if not motor:
                p.ellipse(wx, y - r, r * max(squash, 0.25) * 0.8, r * 0.8, (150, 150, 150))
        if motor:
            p.fill(
                np.array(
                    [
                        [x - half, y - r * 1.5],
                        [x + half * 0.6, y - r * 1.2],
                        [x + half * 0.9, y - 0.95 * s],
                        [x + half * 0.6, y - 0.95 * s],
                        [x + half * 0.2, y - r * 1.9],
                        [x - half * 1.1, y - r * 2.2],
                    ]
                ),
                body,
            )
        else:
            p.line(x - half, y - r, x, y - r, max(0.03 * s, 1), body)
            p.line(x, y - r, x - half * 0.3, y - 0.85 * s, max(0.03 * s, 1), body)
            p.line(x - half * 0.3, y - 0.8 * s, x + half * 0.8, y - 0.85 * s, max(0.03 * s, 1), body)
            p.line(x + half, y - r, x + half * 0.8, y - 0.95 * s, max(0.03 * s, 1), body)
        p.line(
            x + direction * half * 0.8 - 0.15 * s,
            y - 1.0 * s,
            x + direction * half * 0.8 + 0.15 * s,
            y - 1.0 * s,
            max(0.025 * s, 1),
            (40, 40, 40),
        )

    base = np.asarray(base, np.float64)
    out = [
        SceneObject(
            "scooter" if motor else "bicycle",
            None,
            [Sprite(base, 1.05, length / 2, draw)],
            anchor=base + np.array([0.0, 0.0, 0.5]),
        )
    ]
    if rider:
        seated = person(rng, base + np.array([0.0, 0.0, 0.35 if motor else 0.45]))
        seated.depth_bias = 0.05
        out.append(seated)
    return out


def car(rng: np.random.Generator, pose: Pose) -> SceneObject:
    """A car (or van): body, glasshouse and wheels; its local ``a`` axis is its length."""
    van = rng.random() < 0.2
    length, width = float(rng.uniform(4.0, 4.9)), float(rng.uniform(1.7, 1.9))
    color = _c(rng, CAR, 10)
    glass = (70, 60, 50)
    parts: list[Primitive] = box(pose, (0, 0, 0.65), (length, width, 0.7), color)
    if van:
        parts += box(pose, (-0.3, 0, 1.4), (length - 0.8, width - 0.05, 0.8), color)
        parts += box(pose, (length / 2 - 0.75, 0, 1.35), (0.3, width - 0.15, 0.6), glass)
    else:
        cabin = float(rng.uniform(2.0, 2.6))
        parts += box(pose, (-0.2, 0, 1.27), (cabin, width - 0.15, 0.55), glass, top=color)
    for a in (-length / 2 + 0.8, length / 2 - 0.8):
        for b in (-width / 2 - 0.01, width / 2 + 0.01):
            parts.append(disc(pose, (a, b, 0.32), 0.32, (0, 1, 0), (20, 20, 20)))
    return SceneObject("car", None, parts, anchor=pose.point(0, 0, 0.8))


def tree(rng: np.random.Generator, base: np.ndarray) -> SceneObject:
    """A street tree: trunk and a crown of leafy balls."""
    pose = Pose.identity().at(float(base[0]), float(base[1]), z=float(base[2]))
    trunk_h = float(rng.uniform(2.0, 3.5))
    crown = float(rng.uniform(1.2, 2.5))
    green = textures.jitter_color(rng, (50, 110, 60), 20)
    parts: list[Primitive] = [rod(pose, (0, 0, 0), (0, 0, trunk_h + crown * 0.5), 0.1, (50, 70, 90))]
    for _ in range(int(rng.integers(6, 12))):
        offset = rng.normal(0, crown * 0.45, 3)
        parts.append(
            ball(
                pose,
                (float(offset[0]), float(offset[1]), trunk_h + crown * 0.6 + float(offset[2]) * 0.6),
                crown * float(rng.uniform(0.35, 0.6)),
                textures.jitter_color(rng, green, 18),
            )
        )
    return SceneObject("tree", None, parts, anchor=pose.point(0, 0, trunk_h))


def street_lamp(rng: np.random.Generator, pose: Pose) -> SceneObject:
    """A lamp post with an arm over the road (``b`` points to the road)."""
    height = float(rng.uniform(5.0, 9.0))
    gray = textures.jitter_color(rng, (140, 140, 140), 20)
    parts: list[Primitive] = [rod(pose, (0, 0, 0), (0, 0, height), 0.08, gray)]
    parts.append(rod(pose, (0, 0, height), (0, 1.4, height + 0.3), 0.04, gray))
    parts += box(pose, (0, 1.5, height + 0.25), (0.3, 0.6, 0.15), (200, 200, 200))
    return SceneObject("street_lamp", None, parts, anchor=pose.point(0, 0, height / 2))


def bin_(rng: np.random.Generator, pose: Pose) -> SceneObject:
    """A pair of public litter bins (green and grey / blue and red)."""
    parts: list[Primitive] = []
    colors = [(60, 130, 40), (150, 150, 150), (160, 90, 30), (40, 40, 170)]
    for k in range(int(rng.integers(1, 3))):
        parts += box(
            pose, (k * 0.55, 0, 0.5), (0.5, 0.45, 1.0), textures.jitter_color(rng, colors[int(rng.integers(4))], 10)
        )
    return SceneObject("bin", None, parts, anchor=pose.point(0.25, 0, 0.5))


def railing(rng: np.random.Generator, pose: Pose, length: float) -> SceneObject:
    """A roadside railing along ``a``."""
    color = textures.jitter_color(rng, [(220, 220, 220), (60, 120, 60), (60, 60, 60)][int(rng.integers(3))], 10)
    parts: list[Primitive] = []
    for z in (0.35, 0.9):
        parts.append(rod(pose, (-length / 2, 0, z), (length / 2, 0, z), 0.02, color))
    for a in np.arange(-length / 2, length / 2 + 0.01, 1.5):
        parts.append(rod(pose, (float(a), 0, 0), (float(a), 0, 0.95), 0.025, color))
    for a in np.arange(-length / 2, length / 2, 0.15):
        parts.append(rod(pose, (float(a), 0, 0.35), (float(a), 0, 0.9), 0.006, color))
    return SceneObject("railing", None, parts, anchor=pose.point(0, 0, 0.5), shadow=False)


def planter(rng: np.random.Generator, pose: Pose) -> SceneObject:
    """A concrete planter with a bush."""
    w = float(rng.uniform(0.8, 2.0))
    parts: list[Primitive] = box(pose, (0, 0, 0.3), (w, 0.8, 0.6), textures.jitter_color(rng, (170, 175, 180), 12))
    green = textures.jitter_color(rng, (50, 120, 60), 20)
    for a in np.linspace(-w / 2 + 0.3, w / 2 - 0.3, max(int(w / 0.4), 1)):
        parts.append(ball(pose, (float(a), 0, 0.75), 0.3, textures.jitter_color(rng, green, 15)))
    return SceneObject("planter", None, parts, anchor=pose.point(0, 0, 0.5))


def cones_and_bollards(rng: np.random.Generator, pose: Pose) -> SceneObject:
    """Traffic cones or bollards in a row."""
    parts: list[Primitive] = []
    cone_kind = rng.random() < 0.5
    for k in range(int(rng.integers(2, 6))):
        if cone_kind:
            parts += box(pose, (k * 0.8, 0, 0.35), (0.2, 0.2, 0.7), (30, 80, 230))
            parts += box(pose, (k * 0.8, 0, 0.45), (0.21, 0.21, 0.12), (240, 240, 240))
        else:
            parts.append(rod(pose, (k * 1.2, 0, 0), (k * 1.2, 0, 0.8), 0.08, (90, 90, 90)))
    return SceneObject("cones", None, parts, anchor=pose.point(1.0, 0, 0.4))

"""Unlabelled things that share the street with the violations: people, bikes, scooters, cars, trees,
lamps, bins, railings, planters. They occlude and confuse on purpose."""

from __future__ import annotations

from dataclasses import dataclass

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


def _trapezoid(p: Painter, top: tuple[float, float, float], bottom: tuple[float, float, float], color: Color) -> None:
    """Fill a quad from a top edge ``(centre x, y, half width)`` to a bottom edge."""
    (tx, ty, th), (bx, by, bh) = top, bottom
    p.fill(np.array([[tx - th, ty], [tx + th, ty], [bx + bh, by], [bx - bh, by]]), color)


@dataclass(frozen=True)
class _Figure:
    """How one pedestrian looks; ``draw`` paints it with the feet at ``(x, y)`` and ``s`` pixels per metre."""

    height: float
    shirt: Color
    pants: Color
    skin: Color
    hair: Color
    side_view: bool
    stride: float
    bag: Color | None
    long_coat: bool

    def draw(self, p: Painter, x: float, y: float, s: float) -> None:
        tall = self.height * s
        hip, shoulder = y - 0.5 * tall, y - 0.81 * tall
        half, leg = (0.12 if self.side_view else 0.2) * s, 0.065 * s
        for sign in (-1, 1):
            foot_x = x + sign * self.stride / 2 * s
            hip_x = x + sign * (0.0 if self.side_view else 0.08 * s)
            _trapezoid(p, (hip_x, hip, leg), (foot_x, y, leg * 0.8), self.pants)
            _trapezoid(
                p, (foot_x + leg * 0.15, y - 0.04 * s, leg * 1.45), (foot_x + leg * 0.15, y, leg * 1.45), (30, 30, 30)
            )
        bottom = hip + (0.25 if self.long_coat else 0.04) * tall
        _trapezoid(p, (x, shoulder, half), (x, bottom, half * 0.85), self.shirt)
        for sign in (-1, 1):
            swing = (self.stride * 0.6 * sign if self.side_view else 0.0) * s
            hand_x = x + sign * half * 1.1 + swing
            p.line(x + sign * half * 0.9, shoulder + 0.03 * s, hand_x, y - 0.47 * tall, max(0.08 * s, 1), self.shirt)
        if self.bag is not None:
            _trapezoid(
                p,
                (x + half * 1.15, hip - 0.1 * s, half * 0.35),
                (x + half * 1.15, hip + 0.2 * s, half * 0.35),
                self.bag,
            )
        p.ellipse(x, y - 0.9 * tall, 0.075 * s, 0.1 * s, self.skin)
        p.ellipse(x, y - 0.92 * tall, 0.08 * s, 0.08 * s, self.hair)


def person(rng: np.random.Generator, base: np.ndarray) -> SceneObject:
    """A pedestrian drawn as an upright figure (front, back or side view, mid-stride)."""
    side_view = bool(rng.random() < 0.5)
    figure = _Figure(
        height=float(rng.uniform(1.5, 1.85)),
        shirt=textures.pick_color(rng, CLOTHES, 25),
        pants=textures.pick_color(rng, CLOTHES, 20),
        skin=textures.pick_color(rng, SKIN, 8),
        hair=textures.jitter_color(rng, (25, 25, 30), 8),
        side_view=side_view,
        stride=float(rng.uniform(0.0, 0.35)) if side_view else float(rng.uniform(0.0, 0.1)),
        bag=textures.pick_color(rng, CLOTHES) if rng.random() < 0.3 else None,
        long_coat=bool(rng.random() < 0.25),
    )
    base = np.asarray(base, np.float64)
    sprite = Sprite(base, figure.height, 0.5, figure.draw)
    return SceneObject("person", None, [sprite], anchor=base + np.array([0.0, 0.0, 0.9]))


@dataclass(frozen=True)
class _TwoWheeler:
    """A bicycle or scooter seen from the side, ``squash`` < 1 when seen obliquely."""

    squash: float
    wheel: float
    length: float
    body: Color
    direction: int
    motor: bool

    def draw(self, p: Painter, x: float, y: float, s: float) -> None:
        half, r = self.length / 2 * s * self.squash, self.wheel * s
        thin = max(0.03 * s, 1)
        for wx in (x - half, x + half):
            p.ellipse(wx, y - r, r * max(self.squash, 0.25), r, (25, 25, 25))
            if not self.motor:
                p.ellipse(wx, y - r, r * max(self.squash, 0.25) * 0.8, r * 0.8, (150, 150, 150))
        if self.motor:
            outline = [
                (-1.0, 1.5 * r),
                (0.6, 1.2 * r),
                (0.9, 0.95 * s),
                (0.6, 0.95 * s),
                (0.2, 1.9 * r),
                (-1.1, 2.2 * r),
            ]
            p.fill(np.array([[x + f * half, y - dy] for f, dy in outline]), self.body)
        else:
            p.line(x - half, y - r, x, y - r, thin, self.body)
            p.line(x, y - r, x - half * 0.3, y - 0.85 * s, thin, self.body)
            p.line(x - half * 0.3, y - 0.8 * s, x + half * 0.8, y - 0.85 * s, thin, self.body)
            p.line(x + half, y - r, x + half * 0.8, y - 0.95 * s, thin, self.body)
        bar = x + self.direction * half * 0.8
        p.line(bar - 0.15 * s, y - 1.0 * s, bar + 0.15 * s, y - 1.0 * s, max(0.025 * s, 1), (40, 40, 40))


def two_wheeler(rng: np.random.Generator, base: np.ndarray, motor: bool, rider: bool) -> list[SceneObject]:
    """A bicycle or an electric scooter seen from the side (or obliquely), maybe ridden."""
    shape = _TwoWheeler(
        squash=float(rng.uniform(0.35, 1.0)),
        wheel=0.24 if motor else 0.33,
        length=1.25 if motor else 1.05,
        body=textures.pick_color(rng, CAR + CLOTHES, 25),
        direction=1 if rng.random() < 0.5 else -1,
        motor=motor,
    )
    base = np.asarray(base, np.float64)
    kind = "scooter" if motor else "bicycle"
    sprite = Sprite(base, 1.05, shape.length / 2, shape.draw)
    out = [SceneObject(kind, None, [sprite], anchor=base + np.array([0.0, 0.0, 0.5]))]
    if rider:
        seated = person(rng, base + np.array([0.0, 0.0, 0.35 if motor else 0.45]))
        seated.depth_bias = 0.05
        out.append(seated)
    return out


def car(rng: np.random.Generator, pose: Pose) -> SceneObject:
    """A car (or van): body, glasshouse and wheels; its local ``a`` axis is its length."""
    van = rng.random() < 0.2
    length, width = float(rng.uniform(4.0, 4.9)), float(rng.uniform(1.7, 1.9))
    color = textures.pick_color(rng, CAR, 10)
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
    """A street tree: trunk, a few branches and a crown of leafy clumps in several shades of one green."""
    pose = Pose.identity().at(float(base[0]), float(base[1]), z=float(base[2]))
    trunk_h = float(rng.uniform(2.0, 3.5))
    crown = float(rng.uniform(1.2, 2.6))
    green = textures.jitter_color(rng, (50, 115, 65), 12)
    bark = textures.jitter_color(rng, (50, 70, 90), 10)
    parts: list[Primitive] = [rod(pose, (0, 0, 0), (0, 0, trunk_h + crown * 0.4), 0.1, bark)]
    for _ in range(3):
        tip = rng.normal(0, crown * 0.5, 2)
        parts.append(rod(pose, (0, 0, trunk_h), (float(tip[0]), float(tip[1]), trunk_h + crown * 0.6), 0.04, bark))
    center_z = trunk_h + crown * 0.75
    for _ in range(int(rng.integers(14, 24))):
        offset = rng.normal(0, 1, 3)
        offset *= crown * 0.55 / max(float(np.linalg.norm(offset)), 0.6)
        shade = float(rng.uniform(0.7, 1.15)) * (1.0 + 0.15 * float(offset[2]) / crown)  # lighter on top
        color = (green[0] * shade, green[1] * shade, green[2] * shade)
        radius = crown * float(rng.uniform(0.25, 0.42))
        parts.append(ball(pose, (float(offset[0]), float(offset[1]), center_z + float(offset[2]) * 0.7), radius, color))
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

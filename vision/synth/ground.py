"""The street's floor and far surroundings: road with markings, sidewalks with curbs, distant skyline."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vision.synth import textures
from vision.synth.primitives import LAYER_BEHIND, LAYER_GROUND, LAYER_SKY, Image, Poly, SceneObject
from vision.synth.shapes import UP, Pose, box, ground_quad, rect

FAR_M = 150.0  # the floor runs this far beyond both ends of the street segment
BLOCKS_M = 30.0  # detailed buildings run this far beyond the segment


@dataclass(frozen=True)
class StreetLayout:
    """Cross-section of the street (metres).

    Attributes:
        length: Length of the detailed street segment along ``x``.
        sidewalk_a: Width of the sidewalk in front of facade A (``y`` from 0).
        road: Width of the roadway.
        sidewalk_b: Width of the sidewalk in front of facade B.
        curb: Height of the sidewalks above the road.
    """

    length: float
    sidewalk_a: float
    road: float
    sidewalk_b: float
    curb: float

    @property
    def facade_b(self) -> float:
        """``y`` of facade B."""
        return self.sidewalk_a + self.road + self.sidewalk_b

    @classmethod
    def sample(cls, rng: np.random.Generator) -> StreetLayout:
        """Draw a plausible cross-section."""
        return cls(
            length=float(rng.uniform(50, 80)),
            sidewalk_a=float(rng.uniform(3.0, 8.0)),
            road=float(rng.choice([7.0, 8.0, 10.0, 12.0, 15.0, 20.0])),
            sidewalk_b=float(rng.uniform(3.0, 8.0)),
            curb=float(rng.uniform(0.1, 0.18)),
        )


def _road_texture(rng: np.random.Generator, road_m: float) -> Image:
    ppm = 20
    w, h = 6 * ppm, int(road_m * ppm)  # one 6 m dash period along x, the whole width across
    img = textures.asphalt(rng, w, h, float(rng.uniform(70, 110)))
    white, yellow = (225, 225, 225), (40, 190, 220)
    edge = int(0.3 * ppm)
    cv2.line(img, (0, edge), (w, edge), white, 2)
    cv2.line(img, (0, h - edge), (w, h - edge), white, 2)
    lanes = max(int(road_m // 3.5), 2)
    for k in range(1, lanes):
        y = int(h * k / lanes)
        if k == lanes // 2 and road_m >= 10:
            cv2.line(img, (0, y - 3), (w, y - 3), yellow, 2)
            cv2.line(img, (0, y + 3), (w, y + 3), yellow, 2)
        else:
            cv2.line(img, (0, y), (2 * ppm, y), white, 2)
    wear = textures.noise(rng, h, w, 6, 2)
    return np.clip(img.astype(np.float32) * (0.9 + 0.2 * wear[..., None]), 0, 255).astype(np.uint8)


def _sidewalk_texture(rng: np.random.Generator, width_m: float, color: tuple[float, float, float]) -> Image:
    """A 2 m long slice of sidewalk across its whole width: paving and a yellow tactile strip."""
    ppm = 48
    tile = textures.paving(rng, 2 * ppm, color, int(rng.choice([4, 6, 8])))
    rows = max(int(width_m * ppm), 2)
    img = np.concatenate([tile] * (rows // tile.shape[0] + 1), axis=0)[:rows]
    strip = int(width_m * float(rng.uniform(0.35, 0.65)) * ppm)
    tactile = textures.tinted((40, 190, 225), textures.noise(rng, int(0.3 * ppm), 2 * ppm, 8, 1), 0.3)
    img[strip : strip + tactile.shape[0]] = tactile[: max(min(tactile.shape[0], rows - strip), 0)]
    return img


def _skyline(rng: np.random.Generator) -> Image:
    w, h = 512, 128
    img = np.zeros((h, w, 4), np.uint8)  # alpha 0 where the sky shows through
    x = 0
    while x < w:
        bw, bh = int(rng.integers(15, 60)), int(rng.integers(30, h))
        color = (*textures.jitter_color(rng, (150, 145, 140), 20), 255.0)
        cv2.rectangle(img, (x, h - bh), (x + bw, h), color, -1)
        for wy in range(h - bh + 4, h - 4, 6):
            for wx in range(x + 3, x + bw - 3, 6):
                if rng.random() < 0.5:
                    img[wy : wy + 2, wx : wx + 3] = (110, 105, 100, 255)
        x += bw + int(rng.integers(0, 6))
    return img


def ground_objects(rng: np.random.Generator, layout: StreetLayout) -> list[SceneObject]:
    """Road, both sidewalks with curbs and tactile strips, and the skyline all around."""
    x0, x1 = -FAR_M, layout.length + FAR_M
    ya, yr, yb = layout.sidewalk_a, layout.sidewalk_a + layout.road, layout.facade_b
    road = ground_quad(x0, x1, ya, yr, (90, 90, 90), _road_texture(rng, layout.road), (6.0, layout.road))
    parts: list[Poly] = [road]
    for lo, hi, y_curb, facing in ((0.0, ya, ya, 1.0), (yr, yb, yr, -1.0)):
        color = textures.jitter_color(
            rng, [(160, 165, 170), (120, 130, 165), (150, 170, 190)][int(rng.integers(3))], 10
        )
        parts.append(
            ground_quad(x0, x1, lo, hi, color, _sidewalk_texture(rng, hi - lo, color), (2.0, hi - lo), z=layout.curb)
        )
        curb_center = np.array([(x0 + x1) / 2, y_curb, layout.curb / 2])
        parts.append(rect(curb_center, np.array([0, facing, 0.0]), UP, x1 - x0, layout.curb, (185, 185, 185)))
    floor = SceneObject("street", None, list(parts), layer=LAYER_GROUND, shadow=False)
    skyline = _skyline(rng)
    backdrop: list[Poly] = []
    span_x, span_y = x1 - x0, yb + 120
    for center, normal, width in (
        (np.array([(x0 + x1) / 2, -60.0, 25.0]), np.array([0, 1.0, 0]), span_x),
        (np.array([(x0 + x1) / 2, yb + 60.0, 25.0]), np.array([0, -1.0, 0]), span_x),
        (np.array([x1, yb / 2, 25.0]), np.array([-1.0, 0, 0]), span_y),
        (np.array([x0, yb / 2, 25.0]), np.array([1.0, 0, 0]), span_y),
    ):
        backdrop.append(rect(center, normal, UP, width, 50.0, (150, 145, 140), skyline, lit=False))
    sky = SceneObject("skyline", None, list(backdrop), layer=LAYER_SKY, shadow=False)
    return [sky, floor]


def far_blocks(rng: np.random.Generator, layout: StreetLayout) -> list[SceneObject]:
    """Plain building blocks beyond the detailed segment, for views down the street."""
    out = []
    world = Pose.identity()
    for y_front, sign in ((0.0, -1.0), (layout.facade_b, 1.0)):
        for start, stop in ((-FAR_M, -BLOCKS_M), (layout.length + BLOCKS_M, layout.length + FAR_M)):
            x = start
            while x < stop:
                width = float(rng.uniform(10, 30))
                height = float(rng.uniform(6, 30))
                color = textures.jitter_color(rng, (170, 175, 180), 25)
                center = (x + width / 2, y_front + sign * 6.0, height / 2)
                parts = box(world, center, (width, 12.0, height), color)
                out.append(SceneObject("far_block", None, parts, LAYER_BEHIND, np.array(center), shadow=False))
                x += width
    return out

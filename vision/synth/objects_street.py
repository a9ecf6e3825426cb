"""Labelled things on the sidewalk: vendor stalls and carts, goods outside shops, material piles, ad boards.

Each builder takes ``pose`` (its place and heading on a side; local ``a`` along its front, ``b`` out of its
front, ``z`` up) and returns one ``SceneObject`` with its footprint size for the layout.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from vision.synth import prints, textures
from vision.synth.classes import AD_BOARD, GOODS_OUTSIDE_SHOP, MATERIAL_PILE, VENDOR_STALL
from vision.synth.primitives import Color, Image, Primitive, SceneObject
from vision.synth.shapes import Pose, ball, box, cone, disc, panel, rect, rod

UMBRELLA: tuple[Color, ...] = (
    (40, 40, 200), (170, 90, 30), (60, 150, 50), (40, 200, 235), (235, 235, 235), (30, 120, 240), (40, 40, 150),
)  # fmt: skip
GOODS: tuple[Color, ...] = (
    (30, 140, 240), (40, 40, 210), (50, 180, 80), (40, 210, 230), (180, 100, 40), (200, 200, 200), (100, 60, 160),
    (60, 90, 140), (20, 100, 200),
)  # fmt: skip
FRUIT: tuple[Color, ...] = ((20, 130, 240), (30, 40, 200), (40, 170, 90), (40, 210, 230), (60, 60, 140))
TARP: tuple[Color, ...] = ((180, 110, 30), (50, 130, 40), (40, 40, 170), (200, 200, 200))


def _print(
    rng: np.random.Generator, make: Callable[[np.random.Generator, int, int], Image], w_m: float, h_m: float, ppm: int
) -> textures.Lazy:
    w, h = max(int(w_m * ppm), 2), max(int(h_m * ppm), 2)
    return textures.lazy(rng, w, h, make)


def _obj(kind: str, class_id: int, pose: Pose, parts: list[Primitive], height: float) -> SceneObject:
    return SceneObject(kind, class_id, parts, anchor=pose.point(0, 0, height / 2))


def goods_heap(
    rng: np.random.Generator, pose: Pose, a0: float, a1: float, b0: float, b1: float, z: float
) -> list[Primitive]:
    """Fruit or small boxes filling a rectangle on top of a surface at height ``z``."""
    parts: list[Primitive] = []
    if rng.random() < 0.55:
        r = float(rng.uniform(0.05, 0.09))
        color = textures.pick_color(rng, FRUIT)
        for a in np.arange(a0 + r, a1 - r + 1e-6, 2.2 * r):
            if rng.random() < 0.15:
                color = textures.pick_color(rng, FRUIT)
            for b in np.arange(b0 + r, b1 - r + 1e-6, 2.2 * r):
                parts.append(ball(pose, (float(a), float(b), z + r), r, textures.jitter_color(rng, color, 15)))
    else:
        a = a0
        while a < a1 - 0.08:
            w = float(min(rng.uniform(0.12, 0.4), a1 - a))
            h = float(rng.uniform(0.08, 0.35))
            parts += box(
                pose,
                (a + w / 2, (b0 + b1) / 2, z + h / 2),
                (w * 0.95, (b1 - b0) * 0.9, h),
                textures.pick_color(rng, GOODS, 30),
            )
            a += w
    return parts


def umbrella(rng: np.random.Generator, pose: Pose, a: float, b: float, height: float) -> list[Primitive]:
    """A market umbrella: pole and a striped canopy."""
    radius = float(rng.uniform(0.9, 1.5))
    first = textures.pick_color(rng, UMBRELLA)
    colors = [first, textures.pick_color(rng, UMBRELLA)] if rng.random() < 0.5 else [first]
    parts: list[Primitive] = [rod(pose, (a, b, 0), (a, b, height + 0.4), 0.02, (150, 150, 150))]
    parts += cone(pose, (a, b, height), radius, float(rng.uniform(0.35, 0.6)), colors, 8)
    return parts


def umbrella_stall(rng: np.random.Generator, pose: Pose) -> tuple[SceneObject, tuple[float, float]]:
    """A table (or two) of goods under a market umbrella."""
    width, depth, height = float(rng.uniform(1.0, 2.0)), float(rng.uniform(0.6, 1.0)), float(rng.uniform(0.7, 0.9))
    cloth = textures.pick_color(rng, TARP + UMBRELLA, 20)
    parts: list[Primitive] = box(pose, (0, 0, height / 2), (width, depth, height), cloth)
    parts += goods_heap(rng, pose, -width / 2, width / 2, -depth / 2, depth / 2, height)
    if rng.random() < 0.6:
        parts += umbrella(rng, pose, float(rng.uniform(-0.3, 0.3)), -depth / 2 - 0.1, float(rng.uniform(1.9, 2.4)))
    for k in range(int(rng.integers(0, 3))):  # crates beside the table
        side = width / 2 + 0.3 + 0.45 * k
        parts += box(pose, (side, 0.1, 0.15), (0.4, 0.3, 0.3), textures.pick_color(rng, GOODS))
        parts += goods_heap(rng, pose, side - 0.18, side + 0.18, -0.03, 0.23, 0.3)
    return _obj("umbrella_stall", VENDOR_STALL, pose, parts, height), (width + 1.0, depth + 1.0)


def cart(rng: np.random.Generator, pose: Pose) -> tuple[SceneObject, tuple[float, float]]:
    """A food cart on wheels with a glass case and a roof."""
    width, depth = float(rng.uniform(1.2, 1.9)), float(rng.uniform(0.7, 1.0))
    lift, body = float(rng.uniform(0.25, 0.45)), float(rng.uniform(0.5, 0.8))
    color = textures.pick_color(rng, GOODS + UMBRELLA, 20)
    front = _print(rng, prints.signboard, width, body, 60) if rng.random() < 0.6 else None
    parts: list[Primitive] = box(pose, (0, 0, lift + body / 2), (width, depth, body), color, front=front)
    for a in (-width / 2 + 0.25, width / 2 - 0.25):
        for b in (-depth / 2 - 0.01, depth / 2 + 0.01):
            parts.append(disc(pose, (a, b, 0.2), 0.2, (0, 1, 0), (30, 30, 30)))
    top = lift + body
    if rng.random() < 0.7:
        parts += box(pose, (0, 0, top + 0.25), (width * 0.9, depth * 0.8, 0.5), (200, 190, 170))
        parts += goods_heap(rng, pose, -width * 0.4, width * 0.4, -depth * 0.3, depth * 0.3, top)
    if rng.random() < 0.7:
        roof_z = top + float(rng.uniform(0.9, 1.3))
        for a in (-width / 2 + 0.05, width / 2 - 0.05):
            parts.append(rod(pose, (a, -depth / 2 + 0.05, top), (a, -depth / 2 + 0.05, roof_z), 0.02, (180, 180, 180)))
        parts += box(pose, (0, 0, roof_z), (width + 0.3, depth + 0.4, 0.06), textures.pick_color(rng, UMBRELLA))
    return _obj("cart", VENDOR_STALL, pose, parts, top), (width + 0.4, depth + 0.5)


def tricycle(rng: np.random.Generator, pose: Pose) -> tuple[SceneObject, tuple[float, float]]:
    """A cargo tricycle loaded with goods (the classic mobile vendor)."""
    width, depth, wall = float(rng.uniform(1.0, 1.4)), float(rng.uniform(0.8, 1.0)), float(rng.uniform(0.3, 0.5))
    floor = 0.55
    color = textures.pick_color(rng, ((170, 90, 30), (40, 40, 180), (60, 130, 40), (200, 200, 200)), 15)
    parts: list[Primitive] = box(pose, (0, 0, floor + wall / 2), (width, depth, wall), color)
    parts += goods_heap(
        rng, pose, -width / 2 + 0.05, width / 2 - 0.05, -depth / 2 + 0.05, depth / 2 - 0.05, floor + wall
    )
    for b in (-depth / 2 - 0.02, depth / 2 + 0.02):
        parts.append(disc(pose, (0, b, 0.3), 0.3, (0, 1, 0), (25, 25, 25)))
    head = width / 2 + 0.8
    parts.append(disc(pose, (head, 0, 0.3), 0.3, (0, 1, 0), (25, 25, 25)))
    frame = (60, 60, 60)
    parts.append(rod(pose, (width / 2, 0, floor), (head - 0.1, 0, 0.9), 0.025, frame))
    parts.append(rod(pose, (head, 0, 0.3), (head - 0.1, 0, 1.05), 0.025, frame))
    parts.append(rod(pose, (head - 0.1, -0.3, 1.05), (head - 0.1, 0.3, 1.05), 0.02, frame))
    parts += box(pose, (width / 2 + 0.35, 0, 0.9), (0.25, 0.2, 0.06), (40, 40, 40))
    if rng.random() < 0.35:
        parts += umbrella(rng, pose, 0.0, 0.0, floor + wall + 1.3)
    return _obj("tricycle", VENDOR_STALL, pose, parts, 1.0), (width + 1.2, depth + 0.4)


def ground_spread(rng: np.random.Generator, pose: Pose) -> tuple[SceneObject, tuple[float, float]]:
    """Goods laid out on a tarp on the ground, sometimes with a low crate-table."""
    width, depth = float(rng.uniform(1.2, 2.5)), float(rng.uniform(0.8, 1.6))
    parts: list[Primitive] = [rect(pose.point(0, 0, 0.02), np.array([0.0, 0, 1]), pose.vector(0, -1, 0), width, depth,
                                    textures.pick_color(rng, TARP, 20))]  # fmt: skip
    parts += goods_heap(rng, pose, -width / 2 + 0.1, width / 2 - 0.1, -depth / 2 + 0.1, depth / 2 - 0.1, 0.02)
    if rng.random() < 0.5:
        parts += box(pose, (-width / 2 + 0.3, -depth / 2 - 0.25, 0.2), (0.5, 0.4, 0.4), textures.pick_color(rng, GOODS))
    return _obj("ground_spread", VENDOR_STALL, pose, parts, 0.3), (width + 0.3, depth + 0.6)


def canopy_tent(rng: np.random.Generator, pose: Pose) -> tuple[SceneObject, tuple[float, float]]:
    """A folding gazebo tent over a stall table."""
    size, height = float(rng.uniform(2.0, 3.0)), float(rng.uniform(1.9, 2.3))
    color = textures.pick_color(rng, UMBRELLA)
    parts: list[Primitive] = []
    h = size / 2 - 0.05
    for a, b in ((-h, -h), (-h, h), (h, -h), (h, h)):
        parts.append(rod(pose, (a, b, 0), (a, b, height), 0.025, (200, 200, 200)))
    parts += cone(pose.at(0, 0, 45), (0, 0, height), size * 0.707, float(rng.uniform(0.5, 0.8)), [color], 4)
    valance = _print(rng, prints.banner, size, 0.25, 50) if rng.random() < 0.5 else None
    parts.append(panel(pose, 0, size / 2, height - 0.12, size, 0.25, color, valance))
    table_w = size * 0.8
    parts += box(pose, (0, size / 2 - 0.5, 0.4), (table_w, 0.7, 0.8), textures.pick_color(rng, TARP + GOODS, 20))
    parts += goods_heap(rng, pose, -table_w / 2, table_w / 2, size / 2 - 0.85, size / 2 - 0.15, 0.8)
    return _obj("canopy_tent", VENDOR_STALL, pose, parts, height), (size + 0.2, size + 0.2)


VENDOR_BUILDERS = (umbrella_stall, umbrella_stall, cart, tricycle, ground_spread, canopy_tent)


def goods_display(rng: np.random.Generator, pose: Pose) -> tuple[SceneObject, tuple[float, float]]:
    """What a shop puts out in front of its door: racks, stacked boxes, crates, buckets, clothes."""
    width = float(rng.uniform(1.2, 3.5))
    parts: list[Primitive] = []
    a = -width / 2
    while a < width / 2 - 0.3:
        w = float(min(rng.uniform(0.4, 1.2), width / 2 - a))
        kind = int(rng.integers(5))
        parts += _goods_item(rng, pose, kind, a + w / 2, w)
        a += w + float(rng.uniform(0.0, 0.25))
    return _obj("goods_display", GOODS_OUTSIDE_SHOP, pose, parts, 1.0), (width, 1.0)


def _rack(rng: np.random.Generator, pose: Pose, a: float, w: float) -> list[Primitive]:
    """A shelf rack with goods on 2-4 levels."""
    levels, depth = int(rng.integers(2, 5)), 0.45
    parts: list[Primitive] = []
    for k in range(levels):
        z = 0.15 + k * 0.4
        parts += box(pose, (a, 0, z), (w, depth, 0.03), (150, 150, 150))
        parts += goods_heap(rng, pose, a - w / 2, a + w / 2, -depth / 2, depth / 2, z + 0.015)
    top = 0.15 + levels * 0.4
    for da in (-w / 2, w / 2):
        parts.append(rod(pose, (a + da, depth / 2, 0), (a + da, depth / 2, top), 0.015, (120, 120, 120)))
    return parts


def _stacked_boxes(rng: np.random.Generator, pose: Pose, a: float, w: float) -> list[Primitive]:
    """Cardboard boxes and drink crates, stacked."""
    parts: list[Primitive] = []
    z = 0.0
    for _ in range(int(rng.integers(1, 5))):
        h = float(rng.uniform(0.25, 0.45))
        color = textures.jitter_color(
            rng, (70, 120, 170) if rng.random() < 0.6 else textures.pick_color(rng, GOODS), 15
        )
        parts += box(pose, (a + float(rng.normal(0, 0.03)), 0, z + h / 2), (w * 0.9, 0.5, h), color)
        z += h
    return parts


def _buckets(rng: np.random.Generator, pose: Pose, a: float, w: float) -> list[Primitive]:
    """A row of buckets of flowers or vegetables."""
    parts: list[Primitive] = []
    for k in range(max(int(w / 0.35), 1)):
        ca = a - w / 2 + 0.17 + k * 0.35
        parts += box(pose, (ca, 0, 0.2), (0.3, 0.3, 0.4), textures.pick_color(rng, GOODS))
        for _ in range(4):
            da, db = (float(v) for v in rng.normal(0, 0.06, 2))
            parts.append(ball(pose, (ca + da, db, 0.45), 0.09, textures.pick_color(rng, FRUIT)))
    return parts


def _clothes_rail(rng: np.random.Generator, pose: Pose, a: float, w: float) -> list[Primitive]:
    """Clothes hanging on a rail."""
    gray = (160, 160, 160)
    parts: list[Primitive] = [rod(pose, (a - w / 2, 0, 1.5), (a + w / 2, 0, 1.5), 0.015, gray)]
    for da in (-w / 2, w / 2):
        parts.append(rod(pose, (a + da, 0, 0), (a + da, 0, 1.5), 0.015, gray))
    for ca in np.arange(a - w / 2 + 0.1, a + w / 2 - 0.05, 0.12):
        length, color = float(rng.uniform(0.6, 1.1)), textures.pick_color(rng, GOODS, 40)
        z = 1.48 - length / 2
        parts.append(panel(pose, float(ca), float(rng.normal(0, 0.02)), z, 0.1, length, color, facing=(1, 0, 0)))
        parts.append(panel(pose, float(ca), 0.0, z, 0.4, length, color))
    return parts


def _produce_stand(rng: np.random.Generator, pose: Pose, a: float, w: float) -> list[Primitive]:
    """Fruit crates on a low stand."""
    parts = box(pose, (a, 0, 0.25), (w, 0.6, 0.5), textures.pick_color(rng, GOODS))
    return parts + goods_heap(rng, pose, a - w / 2, a + w / 2, -0.3, 0.3, 0.5)


_GOODS_ITEMS = (_rack, _stacked_boxes, _buckets, _clothes_rail, _produce_stand)


def _goods_item(rng: np.random.Generator, pose: Pose, kind: int, a: float, w: float) -> list[Primitive]:
    return _GOODS_ITEMS[kind % len(_GOODS_ITEMS)](rng, pose, a, w)


def _bricks(rng: np.random.Generator, pose: Pose) -> tuple[list[Primitive], tuple[float, float]]:
    """Pallets of bricks (red or grey blocks)."""
    color = textures.jitter_color(rng, (60, 90, 160) if rng.random() < 0.7 else (150, 150, 150), 15)
    tex = textures.lazy(rng, 64, 32, lambda r, w, h: textures.brick(r, w, h, color, 8 * w / 64))
    widths = [float(rng.uniform(0.8, 1.2)) for _ in range(int(rng.integers(1, 4)))]
    total = sum(widths) + 0.05 * (len(widths) - 1)
    parts: list[Primitive] = []
    a = -total / 2
    for w in widths:
        h = float(rng.uniform(0.5, 1.1))
        parts += box(pose, (a + w / 2, 0, h / 2), (w, 0.9, h), color, front=tex, sides=tex)
        a += w + 0.05
    return parts, (total, 1.0)


def _heap(rng: np.random.Generator, pose: Pose) -> tuple[list[Primitive], tuple[float, float]]:
    """A heap of sand or gravel, sometimes under green dust net."""
    radius, height = float(rng.uniform(0.8, 2.2)), float(rng.uniform(0.4, 1.1))
    base = (110, 170, 200) if rng.random() < 0.5 else (135, 135, 130)
    if rng.random() < 0.35:
        base = (50, 110, 40)
    colors = [textures.jitter_color(rng, base, 10) for _ in range(3)]
    return cone(pose, (0, 0, 0), radius, height, colors, 12, rng.uniform(-0.15, 0.15, 12)), (2 * radius, 2 * radius)


def _bags(rng: np.random.Generator, pose: Pose) -> tuple[list[Primitive], tuple[float, float]]:
    """Cement or sand bags stacked in a pyramid."""
    color = textures.jitter_color(rng, (200, 200, 195) if rng.random() < 0.6 else (120, 150, 170), 10)
    rows = int(rng.integers(2, 5))
    left = -(rows + 1) * 0.31
    parts: list[Primitive] = []
    for r in range(rows):
        for k in range(rows - r + 1):
            center = (left + k * 0.62 + r * 0.31 + 0.31, 0.0, 0.09 + r * 0.17)
            parts += box(pose, center, (0.58, 0.4, 0.16), textures.jitter_color(rng, color, 8))
    return parts, ((rows + 1) * 0.62, 0.6)


def _long_stock(rng: np.random.Generator, pose: Pose) -> tuple[list[Primitive], tuple[float, float]]:
    """Pipes, rebar or planks lying in a bundle."""
    color = textures.pick_color(rng, ((60, 80, 120), (220, 220, 220), (70, 130, 170), (150, 150, 150)), 10)
    length = float(rng.uniform(2.0, 4.0))
    parts: list[Primitive] = []
    for k in range(int(rng.integers(6, 20))):
        b, z = float(rng.uniform(-0.3, 0.3)), 0.05 + 0.07 * (k % 5)
        end = (length / 2, b + float(rng.normal(0, 0.05)), z)
        parts.append(rod(pose, (-length / 2, b, z), end, float(rng.uniform(0.02, 0.05)), color))
    return parts, (length, 0.8)


def _junk(rng: np.random.Generator, pose: Pose) -> tuple[list[Primitive], tuple[float, float]]:
    """Boxes, boards and sacks dumped together."""
    parts: list[Primitive] = []
    for _ in range(int(rng.integers(4, 10))):
        w, h = float(rng.uniform(0.3, 0.9)), float(rng.uniform(0.2, 0.7))
        center = (float(rng.uniform(-0.8, 0.8)), float(rng.uniform(-0.4, 0.4)), h / 2)
        parts += box(
            pose, center, (w, w * 0.8, h), textures.pick_color(rng, (*GOODS, (70, 120, 170), (90, 110, 120)), 30)
        )
    return parts, (2.2, 1.4)


_PILES = (_bricks, _heap, _bags, _long_stock, _junk)


def material_pile(rng: np.random.Generator, pose: Pose) -> tuple[SceneObject, tuple[float, float]]:
    """Bricks, sand or gravel, cement bags, pipes and planks, or junk: piled on the street."""
    parts, size = _PILES[int(rng.integers(len(_PILES)))](rng, pose)
    return _obj("material_pile", MATERIAL_PILE, pose, parts, 0.6), size


def ad_board(rng: np.random.Generator, pose: Pose) -> tuple[SceneObject, tuple[float, float]]:
    """A free-standing ad on the sidewalk: A-frame, board on legs, roll-up stand, or light box."""
    kind = int(rng.integers(4))
    frame = textures.pick_color(rng, ((40, 40, 40), (200, 200, 200), (30, 30, 150), (150, 90, 30)))
    parts: list[Primitive] = []
    if kind == 0:  # A-frame
        w, h = float(rng.uniform(0.5, 0.8)), float(rng.uniform(0.9, 1.3))
        lean = 0.14 * h
        for sign in (1, -1):
            face = _print(rng, prints.ad_print, w, h, 120)
            mid = pose.point(0, sign * lean / 2, h / 2)
            up = pose.vector(0, -sign * lean, h)
            parts.append(rect(mid, pose.vector(0, sign * h, lean), up, w, float(np.linalg.norm(up)), frame, face))
        height = h
    elif kind == 1:  # board on two legs
        w, h, lift = float(rng.uniform(0.6, 1.4)), float(rng.uniform(0.8, 1.6)), float(rng.uniform(0.2, 0.7))
        parts += box(pose, (0, 0, lift + h / 2), (w, 0.05, h), frame, front=_print(rng, prints.ad_print, w, h, 100))
        for a in (-w / 2 + 0.05, w / 2 - 0.05):
            parts.append(rod(pose, (a, 0, 0), (a, 0, lift), 0.02, frame))
        height = lift + h
    elif kind == 2:  # roll-up banner stand
        w, h = float(rng.uniform(0.6, 0.9)), float(rng.uniform(1.6, 2.0))
        parts.append(panel(pose, 0, 0, h / 2 + 0.05, w, h, frame, _print(rng, prints.ad_print, w, h, 100)))
        parts += box(pose, (0, 0, 0.04), (w + 0.05, 0.2, 0.08), (160, 160, 160))
        height = h
    else:  # light box
        w, h = float(rng.uniform(0.4, 0.7)), float(rng.uniform(0.9, 1.5))
        face = _print(rng, prints.signboard if rng.random() < 0.3 else prints.cantilever_face, w, h, 100)
        parts += box(pose, (0, 0, h / 2 + 0.05), (w, 0.3, h), frame, front=face, sides=face)
        height = h
    return _obj("ad_board", AD_BOARD, pose, parts, height), (1.0, 0.8)

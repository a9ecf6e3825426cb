"""Unlabelled wooden things: a terrace deck on the sidewalk, bistro tables and chairs, a plank-clad shop front.

Wood boards seen in perspective are not a violation; the detector learns that from these. Built in a side's local
frame (``u`` along the facade, ``v`` towards the street, ``z`` up; see ``vision.synth.scene.side_pose``).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from vision.synth import textures
from vision.synth.objects_facade import ShopFront
from vision.synth.primitives import LAYER_GROUND, LAYER_ON_FACADE, Color, Image, Poly, Primitive, SceneObject
from vision.synth.shapes import UP, Pose, panel, rect, rod

WOOD_PPM = 96  # texture pixels per metre of boards
METALS: tuple[Color, ...] = ((200, 200, 200), (160, 160, 160), (35, 35, 35), (90, 90, 90))
TABLE_TOPS: tuple[Color, ...] = ((235, 235, 235), (215, 215, 215), (40, 40, 40), (70, 110, 160), (150, 150, 150))


def wood_tone(rng: np.random.Generator) -> Color:
    """A warm wood colour (BGR): red over green over blue, from pale pine to dark walnut, sometimes weathered."""
    red = float(rng.uniform(95, 215))
    green = red * float(rng.uniform(0.55, 0.75))
    blue = green * float(rng.uniform(0.5, 0.78))
    if rng.random() < 0.12:  # weathered towards grey
        mix = float(rng.uniform(0.3, 0.6))
        gray = (red + green + blue) / 3
        red, green, blue = (c + mix * (gray - c) for c in (red, green, blue))
    return (blue, green, red)


def _boards(rng: np.random.Generator, length_m: float, across_m: float, tone: Color) -> textures.Lazy:
    """A lazy plank texture: board length along its columns (``length_m``), boards stacked down its rows."""
    board_m = float(rng.uniform(0.08, 0.16))
    return textures.lazy(
        rng,
        round(length_m * WOOD_PPM),
        round(across_m * WOOD_PPM),
        lambda r, w, h: textures.planks(r, w, h, board_m * w / length_m, tone),
    )


def deck(rng: np.random.Generator, side: Pose, u: float, size: tuple[float, float]) -> SceneObject:
    """A restaurant's wooden terrace on the sidewalk against the facade: ``size = (along u, out in v)``.

    A floor at ground level (drawn before anything standing, so it never hides a labelled object), a few
    centimetres high with a board edge along the street side and both ends.
    """
    width, depth = size
    rise = float(rng.uniform(0.02, 0.12))
    tone = wood_tone(rng)
    along_u = bool(rng.random() < 0.5)  # boards parallel to the facade, or running out towards the street
    length_m, across_m = (width, depth) if along_u else (depth, width)
    texture = _boards(rng, length_m, across_m, tone)
    corners = np.stack([side.point(u + du, dv, rise) for du, dv in
                        ((-width / 2, 0), (width / 2, 0), (width / 2, depth), (-width / 2, depth))])  # fmt: skip
    step_u, step_v = side.vector(1, 0, 0), side.vector(0, 1, 0)
    axis_s, axis_t = (step_u, step_v) if along_u else (step_v, step_u)
    axes = (corners[0], axis_s * (length_m / texture.width), axis_t * (across_m / texture.height))
    parts: list[Primitive] = [Poly(corners, tone, UP.copy(), texture, axes, ground=True)]
    edge = (tone[0] * 0.7, tone[1] * 0.7, tone[2] * 0.7)
    parts.append(panel(side, u, depth, rise / 2, width, rise, edge))
    for sign in (-1, 1):
        parts.append(panel(side, u + sign * width / 2, depth / 2, rise / 2, depth, rise, edge, facing=(sign, 0, 0)))
    # Painted after the street floor whatever the distance (the floor is one huge polygon).
    return SceneObject("deck", None, parts, LAYER_GROUND, side.point(u, depth / 2, rise), depth_bias=1e4,
                       shadow=False, position=(u, depth / 2))  # fmt: skip


def _round_top(center: np.ndarray, radius: float, color: Color, segments: int = 14) -> Poly:
    angles = np.linspace(0, 2 * math.pi, segments, endpoint=False)
    pts = np.stack([center + radius * np.array([math.cos(t), math.sin(t), 0.0]) for t in angles])
    return Poly(pts, color, UP.copy())


def bistro_table(rng: np.random.Generator, pose: Pose) -> SceneObject:
    """A slim metal café table (round top on one post and a cross foot, or four legs), maybe with chairs."""
    metal = textures.pick_color(rng, METALS, 10)
    top = textures.pick_color(rng, TABLE_TOPS, 10)
    tall = rng.random() < 0.4  # a standing bar table like in a coffee shop
    height = float(rng.uniform(1.0, 1.15)) if tall else float(rng.uniform(0.72, 0.78))
    radius = float(rng.uniform(0.28, 0.4))
    parts: list[Primitive] = [_round_top(pose.point(0, 0, height), radius, top)]
    parts.append(rod(pose, (0, 0, 0.03), (0, 0, height - 0.01), 0.025, metal))
    if rng.random() < 0.6:
        foot = radius * 0.9
        for k in range(4):
            angle = math.pi / 4 + k * math.pi / 2
            parts.append(rod(pose, (0, 0, 0.04), (foot * math.cos(angle), foot * math.sin(angle), 0.01), 0.018, metal))
    else:
        parts = parts[:1]
        for k in range(4):
            angle = math.pi / 4 + k * math.pi / 2
            a, b = radius * 0.7 * math.cos(angle), radius * 0.7 * math.sin(angle)
            parts.append(rod(pose, (a, b, 0), (a, b, height), 0.012, metal))
    if not tall:
        for k in range(int(rng.integers(0, 3))):
            parts += _chair(rng, pose.at(0, 0, float(k * 180 + rng.normal(0, 20))), radius + 0.25, metal)
    return SceneObject("bistro_table", None, parts, anchor=pose.point(0, 0, height / 2), shadow=False)


def _chair(rng: np.random.Generator, pose: Pose, distance: float, metal: Color) -> list[Primitive]:
    """A thin metal chair facing the table (its seat ``distance`` from the table's centre)."""
    seat, half = 0.45, 0.2
    seat_color = textures.pick_color(rng, TABLE_TOPS, 10) if rng.random() < 0.5 else wood_tone(rng)
    center = pose.point(0, -distance, seat)
    parts: list[Primitive] = [rect(center, UP, pose.vector(0, 1, 0), 2 * half, 2 * half, seat_color)]
    for a, b in ((-half, -half), (half, -half), (half, half), (-half, half)):
        parts.append(rod(pose, (a, -distance + b, 0), (a, -distance + b, seat), 0.01, metal))
    for a in (-half, half):
        parts.append(rod(pose, (a, -distance - half, seat), (a, -distance - half - 0.05, 0.85), 0.012, metal))
    parts.append(rod(pose, (-half, -distance - half - 0.05, 0.82), (half, -distance - half - 0.05, 0.82), 0.02, metal))
    return parts


def _cladding(rng: np.random.Generator, w: int, h: int, shop: ShopFront, left: float, top: float, tone: Color,
              vertical: bool, board_m: float) -> Image:  # fmt: skip
    """Boards with alpha 0 where the shop's windows and door are (the shop front shows through there)."""
    ppm = w / (shop.u1 - shop.u0 + 2 * left)
    if vertical:  # boards standing up: make them lying down, then turn
        wood = cv2.rotate(textures.planks(rng, h, w, board_m * ppm, tone), cv2.ROTATE_90_CLOCKWISE)
    else:
        wood = textures.planks(rng, w, h, board_m * ppm, tone)
    alpha = np.full((h, w), 255, np.uint8)
    frame = 0.06
    openings = [(u0, u1, z0, z1) for u0, u1, z0, z1 in shop.windows]
    openings.append((shop.door[0], shop.door[1], 0.0, shop.sign_z[0] - 0.1))
    for u0, u1, z0, z1 in openings:
        x0, x1 = round((u0 - shop.u0 + left + frame) * ppm), round((u1 - shop.u0 + left - frame) * ppm)
        bottom = z0 + frame if z0 > 0 else 0.0  # a door runs down to the ground
        y0, y1 = round((top - z1 + frame) * ppm), round((top - bottom) * ppm)
        alpha[max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)] = 0
    return np.dstack([wood, alpha])


def wooden_front(rng: np.random.Generator, side: Pose, shop: ShopFront) -> SceneObject:
    """Plank cladding over a shop's front below its sign: boards round the windows and the door, on the pillars.

    Drawn first among the things on the facade, so signs, stickers and posters on it stay on top.
    """
    left = 0.15
    top = shop.sign_z[0]
    width = shop.u1 - shop.u0 + 2 * left
    tone = wood_tone(rng)
    vertical = bool(rng.random() < 0.6)
    board_m = float(rng.uniform(0.09, 0.2))
    texture = textures.lazy(rng, round(width * WOOD_PPM), round(top * WOOD_PPM),
                            lambda r, w, h: _cladding(r, w, h, shop, left, top, tone, vertical, board_m))  # fmt: skip
    u = (shop.u0 + shop.u1) / 2
    part = panel(side, u, 0.012, top / 2, width, top, tone, texture)
    return SceneObject("wooden_front", None, [part], LAYER_ON_FACADE, side.point(u, 0.012, top / 2),
                       depth_bias=-1e4, shadow=False, position=(u, 0.0))  # fmt: skip

"""Sheds and enclosures, banners strung between poles, and posters on poles and utility boxes."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from vision.synth import prints, textures
from vision.synth.classes import BANNER, POSTER, SHED
from vision.synth.primitives import Image, Poly, Primitive, SceneObject
from vision.synth.shapes import Pose, box, gable_roof, panel, rect, rod

STEEL = ((175, 110, 40), (190, 125, 50), (160, 95, 30), (175, 110, 40), (225, 225, 220), (170, 170, 165))


def _steel(rng: np.random.Generator) -> tuple[float, float, float]:
    return textures.jitter_color(rng, STEEL[int(rng.integers(len(STEEL)))], 10)


def _sheet(rng: np.random.Generator, w: float, h: float, color: tuple[float, float, float]) -> textures.Lazy:
    w_px, h_px = max(int(w * 40), 8), max(int(h * 40), 8)
    return textures.lazy(rng, w_px, h_px, lambda r, w, h: textures.corrugated(r, w, h, color, 6 * w / w_px))


def _print(
    rng: np.random.Generator, make: Callable[[np.random.Generator, int, int], Image], w_m: float, h_m: float, ppm: int
) -> textures.Lazy:
    w, h = max(int(w_m * ppm), 2), max(int(h_m * ppm), 2)
    return textures.lazy(rng, w, h, make)


def shed(rng: np.random.Generator, pose: Pose) -> tuple[SceneObject, tuple[float, float]]:
    """A free-standing shed: posts and a corrugated roof, walled on some sides (often blue steel)."""
    width, depth = float(rng.uniform(2.0, 6.0)), float(rng.uniform(1.8, 4.0))
    height = float(rng.uniform(2.1, 2.9))
    color, roof_color = _steel(rng), _steel(rng)
    parts: list[Primitive] = []
    walls = [bool(rng.random() < p) for p in (0.35, 0.8, 0.6, 0.6)]  # front, back, right, left
    if not any(walls):
        for a in (-width / 2 + 0.05, width / 2 - 0.05):
            for b in (-depth / 2 + 0.05, depth / 2 - 0.05):
                parts.append(rod(pose, (a, b, 0), (a, b, height), 0.04, (140, 140, 140)))
    faces: list[tuple[float, float, float, tuple[int, int, int]]] = [
        (0, depth / 2, width, (0, 1, 0)),
        (0, -depth / 2, width, (0, -1, 0)),
    ]
    faces += [(width / 2, 0, depth, (1, 0, 0)), (-width / 2, 0, depth, (-1, 0, 0))]
    for (a, b, span, facing), wall in zip(faces, walls, strict=True):
        if wall:
            parts.append(panel(pose, a, b, height / 2, span, height, color, _sheet(rng, span, height, color), facing))
    if walls[0] and rng.random() < 0.6:  # a door or window in the front wall
        parts.append(panel(pose, float(rng.uniform(-width / 4, width / 4)), depth / 2 + 0.01, 1.0, 0.9, 2.0 * 0.95,
                           textures.jitter_color(rng, (90, 90, 90), 30)))  # fmt: skip
    mono = bool(rng.random() < 0.6)
    parts += gable_roof(pose, (0, 0, height), (width + 0.4, depth + 0.4), float(rng.uniform(0.2, 0.7)), roof_color,
                        _sheet(rng, width, depth, roof_color), mono=mono)  # fmt: skip
    obj = SceneObject("shed", SHED, parts, anchor=pose.point(0, 0, height / 2))
    return obj, (width + 0.5, depth + 0.5)


def lean_to(rng: np.random.Generator, side: Pose, u: float, width: float) -> SceneObject:
    """A corrugated roof built out from a shop front over the sidewalk, on posts; sometimes walled."""
    reach = float(rng.uniform(1.8, 3.5))
    high, low = float(rng.uniform(2.8, 3.3)), float(rng.uniform(2.2, 2.6))
    roof_color, wall_color = _steel(rng), _steel(rng)
    parts: list[Primitive] = []
    for a in (u - width / 2 + 0.05, u + width / 2 - 0.05):
        parts.append(rod(side, (a, reach, 0), (a, reach, low), 0.04, (150, 150, 150)))
    mid = side.point(u, reach / 2, (high + low) / 2)
    slope = side.vector(0, -reach, high - low)
    normal = np.cross(side.vector(1, 0, 0), slope)
    normal = normal if normal[2] > 0 else -normal
    parts.append(rect(mid, normal, slope, width, float(np.linalg.norm(slope)), roof_color,
                      _sheet(rng, width, reach, roof_color)))  # fmt: skip
    if rng.random() < 0.5:  # walled in: front and ends
        parts.append(panel(side, u, reach, low / 2, width, low, wall_color, _sheet(rng, width, low, wall_color)))
        for sign in (-1, 1):
            parts.append(panel(side, u + sign * width / 2, reach / 2, low / 2, reach, low, wall_color,
                               _sheet(rng, reach, low, wall_color), facing=(sign, 0, 0)))  # fmt: skip
    return SceneObject("lean_to", SHED, parts, anchor=side.point(u, reach / 2, low / 2), position=(u, reach / 2))


def pole(pose: Pose, a: float, b: float, height: float, radius: float = 0.06) -> SceneObject:
    """A bare pole (for banners); scenery."""
    part = rod(pose, (a, b, 0), (a, b, height), radius, (130, 130, 130))
    return SceneObject("pole", None, [part], anchor=pose.point(a, b, height / 2))


def strung_banner(rng: np.random.Generator, pose: Pose, span: float) -> tuple[list[SceneObject], float]:
    """A banner tied between two poles (or trees) ``span`` metres apart, sagging a little; with its poles."""
    height = float(rng.uniform(0.6, 1.0))
    width = span - float(rng.uniform(0.1, 0.5))
    z = float(rng.uniform(1.6, 3.5))
    face = _print(rng, prints.banner, width, height, 40)
    segments = 6
    sag = float(rng.uniform(0.0, 0.2))
    parts: list[Primitive] = []
    tex_w = face.shape[1]
    for k in range(segments):
        a0, a1 = -width / 2 + width * k / segments, -width / 2 + width * (k + 1) / segments
        t0, t1 = k / segments, (k + 1) / segments
        z0, z1 = z - sag * 4 * t0 * (1 - t0), z - sag * 4 * t1 * (1 - t1)
        c0, c1 = int(t0 * tex_w), max(int(t1 * tex_w), int(t0 * tex_w) + 1)
        piece = face.columns(c0, c1)
        top0, top1 = pose.point(a0, 0, z0 + height / 2), pose.point(a1, 0, z1 + height / 2)
        bottom1 = pose.point(a1, 0, z1 - height / 2)
        pts = np.stack([top0, top1, bottom1, pose.point(a0, 0, z0 - height / 2)])
        axes = (top0, (top1 - top0) / piece.shape[1], (bottom1 - top1) / piece.shape[0])
        normal = pose.vector(0, 1, 0)
        parts.append(Poly(pts, (40, 40, 200), normal, piece, axes))
    for sign in (-1, 1):
        parts.append(
            rod(pose, (sign * width / 2, 0, z + height / 2), (sign * span / 2, 0, z + height / 2), 0.005, (60, 60, 60))
        )
    banner_obj = SceneObject("strung_banner", BANNER, parts, anchor=pose.point(0, 0, z), depth_bias=0.2, shadow=False)
    top = z + height / 2 + float(rng.uniform(0.3, 1.5))
    poles = [pole(pose, sign * span / 2, 0, top) for sign in (-1, 1)]
    return [banner_obj, *poles], z


def pole_posters(rng: np.random.Generator, pose: Pose, radius: float) -> list[SceneObject]:
    """Small ads stuck around a pole (facing the street and along it)."""
    out = []
    for _ in range(int(rng.integers(1, 4))):
        width = float(rng.uniform(0.15, 0.3))
        height = width * float(rng.uniform(1.2, 1.8))
        z = float(rng.uniform(0.9, 2.2))
        facing = [(0, 1, 0), (1, 0, 0), (-1, 0, 0), (0, 1, 0)][int(rng.integers(4))]
        face = _print(rng, prints.poster, width, height, 160)
        a, b = facing[0] * (radius + 0.005), facing[1] * (radius + 0.005)
        # Culled: from behind, the pole hides a poster stuck on it (drawn, it showed its print through the pole).
        part = panel(pose, a, b, z, width, height, (230, 230, 230), face, facing=(facing[0], facing[1], 0), cull=True)
        out.append(SceneObject("pole_poster", POSTER, [part], anchor=pose.point(a, b, z), depth_bias=0.3, shadow=False))
    return out


def utility_box(rng: np.random.Generator, pose: Pose) -> tuple[list[SceneObject], tuple[float, float]]:
    """A roadside electrical cabinet (scenery), often covered in small ads (labelled)."""
    w, d, h = float(rng.uniform(0.6, 1.4)), float(rng.uniform(0.4, 0.7)), float(rng.uniform(1.0, 1.8))
    color = textures.jitter_color(rng, [(150, 150, 140), (90, 130, 80), (200, 200, 195)][int(rng.integers(3))], 8)
    cabinet = SceneObject(
        "utility_box", None, box(pose, (0, 0, h / 2), (w, d, h), color), anchor=pose.point(0, 0, h / 2)
    )
    out = [cabinet]
    for _ in range(int(rng.integers(0, 4))):
        pw = float(rng.uniform(0.18, min(0.45, w * 0.6)))
        ph = pw * float(rng.uniform(1.1, 1.6))
        a, z = float(rng.uniform(-w / 2 + pw / 2, w / 2 - pw / 2)), float(rng.uniform(ph / 2 + 0.1, h - ph / 2 - 0.05))
        face = _print(rng, prints.poster, pw, ph, 160)
        # Culled: seen from behind, the cabinet hides it.
        part = panel(pose, a, d / 2 + 0.005, z, pw, ph, (230, 230, 230), face, cull=True)
        out.append(
            SceneObject("box_poster", POSTER, [part], anchor=pose.point(a, d / 2, z), depth_bias=0.3, shadow=False)
        )
    return out, (w + 0.3, d + 0.3)

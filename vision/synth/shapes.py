"""Builders of primitives in a local frame placed in the world by a ``Pose``.

Local frame of a pose: ``a`` to the right of someone facing the object's front, ``b`` out of its front
(towards that viewer), ``z`` up. Text on a front face therefore reads left to right from the front.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vision.synth.primitives import Array, Ball, Color, Image, Poly, Primitive, Rod
from vision.synth.textures import Lazy

Texture = Image | Lazy

UP = np.array([0.0, 0.0, 1.0])


def cross(a: Array, b: Array) -> Array:
    """Cross product of two 3-vectors (much cheaper than ``np.cross`` for single vectors)."""
    a0, a1, a2 = float(a[0]), float(a[1]), float(a[2])
    b0, b1, b2 = float(b[0]), float(b[1]), float(b[2])
    return np.array([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0])


def unit(v: Array) -> Array:
    """``v`` scaled to length 1."""
    return v / math.sqrt(float(v[0]) ** 2 + float(v[1]) ** 2 + float(v[2]) ** 2)


@dataclass(frozen=True, eq=False)
class Pose:
    """Local-to-world transform: ``world = matrix @ local + offset``."""

    matrix: Array
    offset: Array

    @classmethod
    def identity(cls) -> Pose:
        """The world frame itself."""
        return cls(np.eye(3), np.zeros(3))

    def point(self, a: float, b: float, z: float) -> Array:
        """World position of a local point."""
        return self.matrix @ np.array([a, b, z], np.float64) + self.offset

    def points(self, local: Array) -> Array:
        """World positions of local points ``(N, 3)``."""
        return np.asarray(local, np.float64) @ self.matrix.T + self.offset

    def vector(self, a: float, b: float, z: float) -> Array:
        """World direction of a local vector."""
        return self.matrix @ np.array([a, b, z], np.float64)

    def at(self, a: float, b: float, heading_deg: float = 0.0, z: float = 0.0) -> Pose:
        """A child pose at local ``(a, b, z)``, turned ``heading_deg`` about ``z``."""
        h = math.radians(heading_deg)
        turn = np.array([[math.cos(h), -math.sin(h), 0.0], [math.sin(h), math.cos(h), 0.0], [0.0, 0.0, 1.0]])
        return Pose(self.matrix @ turn, self.point(a, b, z))


def rect(
    center: Array,
    normal: Array,
    up: Array,
    width: float,
    height: float,
    color: Color,
    texture: Texture | None = None,
    cull: bool = False,
    lit: bool = True,
) -> Poly:
    """A rectangle in world space; a texture reads upright and unmirrored from the ``normal`` side."""
    normal = unit(normal)
    side = unit(cross(up, normal))
    up = cross(normal, side)
    half_w, half_h = side * width / 2.0, up * height / 2.0
    corners = np.stack(
        [center - half_w + half_h, center + half_w + half_h, center + half_w - half_h, center - half_w - half_h]
    )
    axes = None
    if texture is not None:
        tex_h, tex_w = texture.shape[:2]
        axes = (corners[0], side * (width / tex_w), -up * (height / tex_h))
    return Poly(corners, color, normal, texture, axes, cull=cull, lit=lit)


def panel(
    pose: Pose,
    a: float,
    b: float,
    z: float,
    width: float,
    height: float,
    color: Color,
    texture: Texture | None = None,
    facing: tuple[float, float, float] = (0.0, 1.0, 0.0),
    lit: bool = True,
    cull: bool = False,
) -> Poly:
    """An upright rectangle centred at local ``(a, b, z)`` whose front faces local ``facing``."""
    return rect(pose.point(a, b, z), pose.vector(*facing), UP, width, height, color, texture, cull, lit)


_BOX_SIGNS = 0.5 * np.array(
    [[-1, -1, -1], [1, -1, -1], [1, 1, -1], [-1, 1, -1], [-1, -1, 1], [1, -1, 1], [1, 1, 1], [-1, 1, 1]], np.float64
)
_BOTTOM, _TOP = [0, 1, 2, 3], [4, 5, 6, 7]
_FRONT, _BACK, _RIGHT, _LEFT = [3, 2, 6, 7], [0, 1, 5, 4], [1, 2, 6, 5], [0, 3, 7, 4]


def box(
    pose: Pose,
    center: tuple[float, float, float],
    size: tuple[float, float, float],
    color: Color,
    top: Color | None = None,
    front: Texture | None = None,
    sides: Texture | None = None,
    bottom: bool = False,
) -> list[Primitive]:
    """A closed box: ``center`` and ``size`` as local ``(a, b, z)``; optional front and side textures."""
    sa, sb, sz = size
    corners = pose.points(np.asarray(center) + _BOX_SIGNS * np.asarray(size))
    axis_a, axis_b = pose.matrix[:, 0], pose.matrix[:, 1]
    faces: list[Primitive] = []
    plain = [(_FRONT, axis_b, front, sa), (_BACK, -axis_b, sides, sa), (_RIGHT, axis_a, sides, sb)]
    plain.append((_LEFT, -axis_a, sides, sb))
    for index, normal, texture, width in plain:
        if texture is None:
            faces.append(Poly(corners[index], color, normal, cull=True))
        else:
            c = corners[index].mean(axis=0)
            faces.append(rect(c, normal, UP, width, sz, color, texture, cull=True))
    faces.append(Poly(corners[_TOP], top or color, UP, cull=True))
    if bottom:
        faces.append(Poly(corners[_BOTTOM], color, -UP, cull=True))
    return faces


def gable_roof(
    pose: Pose,
    center: tuple[float, float, float],
    size: tuple[float, float],
    rise: float,
    color: Color,
    texture: Texture | None = None,
    mono: bool = False,
) -> list[Primitive]:
    """A roof over a ``size = (a, b)`` rectangle at height ``center[2]``: two slopes, or one (``mono``)."""
    ca, cb, cz = center
    sa, sb = size
    if mono:  # one slope falling towards +b (the front)
        back_top, front = pose.point(ca, cb - sb / 2, cz + rise), pose.point(ca, cb + sb / 2, cz)
        slope = back_top - front
        mid = (back_top + front) / 2
        normal = cross(pose.vector(1, 0, 0), slope)
        normal = normal if normal[2] > 0 else -normal
        return [rect(mid, normal, slope, sa, float(math.sqrt(float(slope @ slope))), color, texture)]
    faces: list[Primitive] = []
    for sign in (1, -1):
        ridge, eave = pose.point(ca, cb, cz + rise), pose.point(ca, cb + sign * sb / 2, cz)
        slope = ridge - eave
        normal = cross(pose.vector(1, 0, 0), slope)
        normal = normal if normal[2] > 0 else -normal
        faces.append(
            rect((ridge + eave) / 2, normal, slope, sa, float(math.sqrt(float(slope @ slope))), color, texture)
        )
    for sign in (1, -1):  # triangular gable ends
        pts = np.stack(
            [
                pose.point(ca + sign * sa / 2, cb - sb / 2, cz),
                pose.point(ca + sign * sa / 2, cb + sb / 2, cz),
                pose.point(ca + sign * sa / 2, cb, cz + rise),
            ]
        )
        faces.append(Poly(pts, color, pose.vector(sign, 0, 0)))
    return faces


def cone(
    pose: Pose,
    center: tuple[float, float, float],
    radius: float,
    rise: float,
    colors: list[Color],
    segments: int = 8,
    jitter: Array | None = None,
) -> list[Primitive]:
    """A cone of triangles (umbrella canopy, heap of sand): rim at ``center``, apex ``rise`` above it."""
    ca, cb, cz = center
    apex = pose.point(ca, cb, cz + rise)
    radii = np.full(segments, radius) if jitter is None else radius * (1 + jitter[:segments])
    angles = np.linspace(0, 2 * math.pi, segments, endpoint=False)
    rim = [pose.point(ca + r * math.cos(t), cb + r * math.sin(t), cz) for r, t in zip(radii, angles, strict=True)]
    faces: list[Primitive] = []
    for i in range(segments):
        p, q = rim[i], rim[(i + 1) % segments]
        normal = cross(q - p, apex - p)
        normal = normal if normal[2] >= 0 else -normal
        faces.append(Poly(np.stack([p, q, apex]), colors[i % len(colors)], unit(normal)))
    return faces


def rod(
    pose: Pose, start: tuple[float, float, float], end: tuple[float, float, float], radius: float, color: Color
) -> Rod:
    """A thin cylinder between two local points."""
    return Rod(pose.point(*start), pose.point(*end), radius, color)


def ball(pose: Pose, center: tuple[float, float, float], radius: float, color: Color) -> Ball:
    """A sphere at a local point."""
    return Ball(pose.point(*center), radius, color)


def ground_quad(
    x0: float,
    x1: float,
    y0: float,
    y1: float,
    color: Color,
    texture: Texture,
    tile_m: tuple[float, float],
    z: float = 0.0,
) -> Poly:
    """A horizontal ground rectangle with a texture tiled every ``tile_m = (along x, along y)`` metres."""
    pts = np.array([[x0, y0, z], [x1, y0, z], [x1, y1, z], [x0, y1, z]], np.float64)
    tex_h, tex_w = texture.shape[:2]
    axes = (np.array([x0, y0, z]), np.array([tile_m[0] / tex_w, 0, 0]), np.array([0, tile_m[1] / tex_h, 0]))
    return Poly(pts, color, UP.copy(), texture, axes, tile=True, ground=True)


def disc(
    pose: Pose, center: tuple[float, float, float], radius: float, axis: tuple[float, float, float], color: Color
) -> Poly:
    """An upright disc (wheel) whose face is perpendicular to the local horizontal ``axis``."""
    normal = unit(pose.vector(*axis))
    side = cross(UP, normal)
    c = pose.point(*center)
    angles = np.linspace(0, 2 * math.pi, 10, endpoint=False)
    pts = np.stack([c + radius * (math.cos(t) * side + math.sin(t) * UP) for t in angles])
    return Poly(pts, color, normal)

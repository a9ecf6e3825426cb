"""Buildings along a facade line, and the things fixed to them: signboards, projecting signs, window ads,
wall posters, facade banners, awnings, air-conditioners and rooftop additions.

Everything is built in a side's local frame: ``u`` along the facade (to the right of someone facing it),
``v`` out of the facade towards the street, ``z`` up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from vision.synth import prints, textures
from vision.synth.classes import BANNER, CANTILEVER, POSTER, ROOFTOP_ADDITION, SIGNBOARD, WIN_AD
from vision.synth.primitives import LAYER_BEHIND, LAYER_FACADE, LAYER_ON_FACADE, Color, Image, Primitive, SceneObject
from vision.synth.shapes import Pose, box, gable_roof, panel, rect

UPPER_PPM = 20  # texture pixels per metre of upper floors
GROUND_PPM = 48  # ... of the ground-floor shop fronts
PRINT_PPM = 80  # ... of labelled prints (signs, posters)

WALL_COLORS: tuple[Color, ...] = (
    (215, 220, 225), (190, 205, 220), (170, 185, 200), (200, 200, 200), (150, 160, 175), (175, 195, 215),
    (140, 150, 160), (205, 215, 235), (120, 130, 150), (190, 190, 170),
)  # fmt: skip
STEEL_COLORS: tuple[Color, ...] = ((175, 110, 40), (190, 125, 50), (160, 95, 30), (225, 225, 220), (170, 170, 165))


@dataclass(frozen=True)
class ShopFront:
    """One shop on a ground floor (local metres)."""

    u0: float
    u1: float
    door: tuple[float, float]
    windows: tuple[tuple[float, float, float, float], ...]  # (u0, u1, z0, z1)
    sign_z: tuple[float, float]
    open: bool


@dataclass(frozen=True)
class Building:
    """A building's place on its side and its shops."""

    u0: float
    u1: float
    height: float
    depth: float
    ground_height: float
    shops: tuple[ShopFront, ...]


def _px(value: float, ppm: float) -> int:
    return max(round(value * ppm), 2)


def _put(img: Image, x: int, y: int, patch: Image) -> None:
    """Copy ``patch`` into ``img`` at ``(x, y)``, clipped to ``img``."""
    h, w = img.shape[:2]
    ph, pw = patch.shape[:2]
    x1, y1 = min(x + pw, w), min(y + ph, h)
    if x1 > x and y1 > y:
        img[y:y1, x:x1] = patch[: y1 - y, : x1 - x]


def _print(
    rng: np.random.Generator, make: Callable[[np.random.Generator, int, int], Image], w_m: float, h_m: float, ppm: int
) -> textures.Lazy:
    w, h = _px(w_m, ppm), _px(h_m, ppm)
    return textures.lazy(rng, w, h, make)


def _wall_texture(rng: np.random.Generator, w: int, h: int, color: Color, style: int) -> Image:
    if style == 0:
        return textures.tiles(rng, w, h, color, max(int(rng.integers(4, 9)), 3))
    if style == 1:
        return textures.brick(rng, w, h, textures.jitter_color(rng, (70, 90, 150), 15), 12)
    return textures.plaster(rng, w, h, color)


def _upper_texture(
    rng: np.random.Generator, width: float, height: float, floor_h: float, color: Color, ppm: float
) -> Image:
    w, h = _px(width, ppm), _px(height, ppm)
    img = _wall_texture(rng, w, h, color, int(rng.choice([0, 0, 1, 2, 2])))
    floors = max(int(height / floor_h), 1)
    win_w, win_h = rng.uniform(1.0, 1.8), rng.uniform(1.2, 1.7)
    pitch = win_w + rng.uniform(0.8, 2.5)
    count = max(int((width - 0.6) / pitch), 1)
    margin = (width - count * pitch) / 2 + (pitch - win_w) / 2
    tint = textures.jitter_color(rng, (110, 95, 80), 20)
    cage = rng.random() < 0.5
    ww, wh = _px(win_w, ppm), _px(win_h, ppm)
    panes = [textures.glass(rng, ww, wh, textures.jitter_color(rng, tint, 10), m) for m in (1, 2, 1)]
    for floor in range(floors):
        top = height - floor * floor_h - (floor_h - win_h) * 0.55
        for k in range(count):
            x0, y0 = _px(margin + k * pitch, ppm), _px(height - top, ppm)
            if y0 + wh > h or x0 + ww > w:
                continue
            _put(img, x0, y0, panes[int(rng.integers(3))])
            if cage and rng.random() < 0.7:
                step = max(int(ppm * 0.2), 2)
                for gx in range(x0, x0 + ww, step):
                    cv2.line(img, (gx, y0 - 2), (gx, y0 + wh + 2), (140, 140, 140), 1)
            if rng.random() < 0.25:  # a far air-conditioner under the window
                ax = x0 + int(rng.integers(0, max(ww - 14, 1)))
                cv2.rectangle(img, (ax, y0 + wh + 2), (ax + 14, y0 + wh + 12), (225, 225, 225), -1)
        band_y = _px(height - floor * floor_h, ppm)
        cv2.line(img, (0, band_y), (w, band_y), tuple(float(c) * 0.85 for c in color), 1)
    return img


def _shop_fronts(rng: np.random.Generator, width: float, ground_h: float) -> list[ShopFront]:
    shops = []
    u = 0.0
    while u < width - 2.0:
        span = min(float(rng.uniform(3.0, 7.5)), width - u)
        if width - (u + span) < 2.0:
            span = width - u
        pillar = float(rng.uniform(0.2, 0.45))
        a, b = u + pillar, u + span - pillar
        sign_z0 = float(min(rng.uniform(2.5, 3.1), ground_h - 0.7))
        door_w = float(min(rng.uniform(1.2, 2.6), (b - a) * 0.7))
        door_c = float(rng.uniform(a + door_w / 2, b - door_w / 2))
        door = (door_c - door_w / 2, door_c + door_w / 2)
        top = sign_z0 - 0.15
        windows = []
        if door[0] - a > 0.6:
            windows.append((a + 0.05, door[0] - 0.1, float(rng.uniform(0.4, 0.9)), top))
        if b - door[1] > 0.6:
            windows.append((door[1] + 0.1, b - 0.05, float(rng.uniform(0.4, 0.9)), top))
        shops.append(ShopFront(a, b, door, tuple(windows), (sign_z0, ground_h - 0.1), bool(rng.random() < 0.8)))
        u += span
    return shops


def _ground_texture(
    rng: np.random.Generator, width: float, ground_h: float, shops: list[ShopFront], color: Color, ppm: float
) -> Image:
    w, h = _px(width, ppm), _px(ground_h, ppm)
    img = textures.plaster(rng, w, h, textures.jitter_color(rng, color, 25), stains=True)

    def area(u0: float, u1: float, z0: float, z1: float) -> tuple[int, int, int, int]:
        return _px(u0, ppm), _px(ground_h - z1, ppm), _px(u1 - u0, ppm), _px(z1 - z0, ppm)

    for shop in shops:
        x, y, ww, hh = area(shop.u0, shop.u1, 0.0, shop.sign_z[0])
        inside = textures.tinted(textures.jitter_color(rng, (60, 65, 75), 15), textures.noise(rng, hh, ww, 6, 2), 1.2)
        for _ in range(int(rng.integers(3, 9))):  # shelves and goods seen inside
            sx, sy = int(rng.integers(0, ww)), int(rng.integers(0, hh))
            cv2.rectangle(inside, (sx, sy), (sx + int(rng.integers(8, 40)), sy + int(rng.integers(4, 16))),
                          textures.jitter_color(rng, (120, 140, 160), 60), -1)  # fmt: skip
        _put(img, x, y, inside)
        for u0, u1, z0, z1 in shop.windows:
            x, y, ww, hh = area(u0, u1, z0, z1)
            pane = textures.glass(rng, ww, hh, textures.jitter_color(rng, (120, 110, 95), 20), int(rng.integers(0, 3)))
            under = img[y : y + hh, x : x + ww]
            _put(
                img,
                x,
                y,
                np.asarray(cv2.addWeighted(pane[: under.shape[0], : under.shape[1]], 0.7, under, 0.3, 0), np.uint8),
            )
        x, y, ww, hh = area(shop.door[0], shop.door[1], 0.0, shop.sign_z[0] - 0.1)
        if shop.open:
            cv2.rectangle(img, (x, y), (x + ww, y + hh), (170, 170, 170), 2)
            cv2.line(img, (x + ww // 2, y), (x + ww // 2, y + hh), (170, 170, 170), 2)
        else:
            _put(img, x, y, textures.shutter(rng, ww, hh, textures.jitter_color(rng, (170, 170, 165), 15)))
    return img


def building(
    rng: np.random.Generator, side: Pose, u0: float, width: float, ends: tuple[bool, bool]
) -> tuple[list[SceneObject], Building]:
    """A building occupying ``[u0, u0 + width]`` on a side; ``ends`` says which side walls show (gaps)."""
    floor_h = float(rng.uniform(2.8, 3.3))
    ground_h = float(rng.uniform(3.4, 4.4))
    floors = int(rng.choice([1, 1, 1, 2, 2, 3, 4, 5, 6, 8]))
    height = ground_h + floors * floor_h
    depth = float(rng.uniform(8, 16))
    color = textures.pick_color(rng, WALL_COLORS, 8)
    shops = _shop_fronts(rng, width, ground_h)
    mid = u0 + width / 2
    upper_h = height - ground_h
    upper = textures.lazy(rng, _px(width, UPPER_PPM), _px(upper_h, UPPER_PPM),
                          lambda r, w, h: _upper_texture(r, width, upper_h, floor_h, color, w / width))  # fmt: skip
    ground = textures.lazy(rng, _px(width, GROUND_PPM), _px(ground_h, GROUND_PPM),
                           lambda r, w, h: _ground_texture(r, width, ground_h, shops, color, w / width))  # fmt: skip
    parts: list[Primitive] = [
        panel(side, mid, 0.0, ground_h + (height - ground_h) / 2, width, height - ground_h, color, upper),
        panel(side, mid, 0.0, ground_h / 2, width, ground_h, color, ground),
    ]
    parapet = float(rng.uniform(0.0, 1.0))
    if parapet > 0.3:
        parts += box(
            side, (mid, -0.1, height + parapet / 2), (width, 0.2, parapet), textures.jitter_color(rng, color, 10)
        )
    side_tex = textures.lazy(rng, _px(depth, 8), _px(height, 8), lambda r, w, h: textures.plaster(r, w, h, color))
    for end, sign in zip(ends, (-1, 1), strict=True):
        if end:
            parts.append(panel(side, mid + sign * width / 2, -depth / 2, height / 2, depth, height, color, side_tex,
                               facing=(sign, 0, 0)))  # fmt: skip
    facade = SceneObject("building", None, parts, LAYER_FACADE, side.point(mid, 0, height / 2), shadow=True)
    roof_color = textures.jitter_color(rng, (150, 150, 150), 15)
    roof = SceneObject(
        "roof", None, [rect(side.point(mid, -depth / 2, height), np.array([0.0, 0, 1]), side.vector(0, -1, 0),
                            width, depth, roof_color)], LAYER_BEHIND, side.point(mid, -depth / 2, height),
        depth_bias=-1e4, shadow=False,
    )  # fmt: skip
    placed = tuple(
        ShopFront(s.u0 + u0, s.u1 + u0, (s.door[0] + u0, s.door[1] + u0),
                  tuple((a + u0, b + u0, c, d) for a, b, c, d in s.windows), s.sign_z, s.open)
        for s in shops
    )  # fmt: skip
    info = Building(u0, u0 + width, height, depth, ground_h, placed)
    return [roof, facade], info


def signboard(rng: np.random.Generator, side: Pose, shop: ShopFront) -> SceneObject:
    """The sign above a shop front."""
    z0, z1 = shop.sign_z
    height = float(min(rng.uniform(0.7, 1.5), z1 - z0))
    width = (shop.u1 - shop.u0) * float(rng.uniform(0.8, 1.0))
    u = float(rng.uniform(shop.u0 + width / 2, shop.u1 - width / 2 + 1e-6))
    z = z0 + height / 2 + float(rng.uniform(0, z1 - z0 - height))
    depth = float(rng.uniform(0.06, 0.3))
    face = _print(rng, prints.signboard, width, height, PRINT_PPM // 2)
    frame = textures.jitter_color(rng, (150, 150, 150), 40)
    parts = box(side, (u, depth / 2, z), (width, depth, height), frame, front=face)
    return SceneObject(
        "signboard", SIGNBOARD, parts, LAYER_ON_FACADE, side.point(u, depth, z), side="", position=(u, 0.0)
    )


def cantilever(rng: np.random.Generator, side: Pose, u: float, z: float) -> SceneObject:
    """A sign projecting from the wall, readable from along the street."""
    reach = float(rng.uniform(0.4, 1.1))
    height = float(rng.uniform(0.5, 2.2)) if rng.random() < 0.6 else float(rng.uniform(0.4, 0.8))
    thick = float(rng.uniform(0.08, 0.25))
    face = _print(rng, prints.cantilever_face, reach, height, PRINT_PPM)
    frame = textures.jitter_color(rng, (160, 160, 160), 40)
    gap = float(rng.uniform(0.05, 0.3))
    parts = box(side, (u, gap + reach / 2, z), (thick, reach, height), frame, sides=face)
    bracket = textures.jitter_color(rng, (80, 80, 80), 10)
    parts += box(side, (u, gap / 2 + 0.01, z + height * 0.4), (0.04, gap + 0.02, 0.04), bracket)
    return SceneObject("cantilever", CANTILEVER, parts, anchor=side.point(u, gap + reach / 2, z), shadow=False,
                       position=(u, gap + reach / 2))  # fmt: skip


def window_ad(rng: np.random.Generator, side: Pose, window: tuple[float, float, float, float]) -> SceneObject | None:
    """A printed sticker on a shop window."""
    u0, u1, z0, z1 = window
    width = float(min(rng.uniform(0.35, 1.4), (u1 - u0) * 0.9))
    height = float(min(width * rng.uniform(0.7, 1.6), (z1 - z0) * 0.9))
    if width < 0.25 or height < 0.25:
        return None
    u = float(rng.uniform(u0 + width / 2, u1 - width / 2))
    z = float(rng.uniform(z0 + height / 2, z1 - height / 2))
    face = _print(rng, prints.ad_print, width, height, PRINT_PPM)
    part = panel(side, u, 0.02, z, width, height, (200, 200, 200), face)
    return SceneObject("window_ad", WIN_AD, [part], LAYER_ON_FACADE, side.point(u, 0.02, z), shadow=False,
                       position=(u, 0.0))  # fmt: skip


def wall_poster(rng: np.random.Generator, side: Pose, u: float, z: float, v: float = 0.015) -> SceneObject:
    """A small paper ad stuck on a wall."""
    width = float(rng.uniform(0.22, 0.6))
    height = width * float(rng.uniform(1.0, 1.5))
    face = _print(rng, prints.poster, width, height, PRINT_PPM * 2)
    tilt = np.deg2rad(float(rng.normal(0, 3)))
    up = side.vector(float(np.sin(tilt)), 0, float(np.cos(tilt)))
    part = rect(side.point(u, v, z), side.vector(0, 1, 0), up, width, height, (230, 230, 230), face)
    return SceneObject("poster", POSTER, [part], LAYER_ON_FACADE, side.point(u, v, z), shadow=False, position=(u, v))


def shop_posters(rng: np.random.Generator, side: Pose, shop: ShopFront) -> list[SceneObject]:
    """One to four small ads stuck around a shop front: by its pillar or beside its door.

    None hangs over an open doorway (there is no wall there to stick it on); a closed shutter takes them.
    """
    spots = [shop.u0 - 0.1, shop.door[0] - 0.3, shop.door[1] + 0.3]
    base = float(rng.choice(spots))
    out = []
    for _ in range(int(rng.integers(1, 5))):
        u, z = base + float(rng.normal(0, 0.35)), float(rng.uniform(0.8, 2.2))
        poster = wall_poster(rng, side, u, z)
        along = (poster.points() - side.offset) @ side.matrix[:, 0]  # u of its corners
        if shop.open and along.min() < shop.door[1] and along.max() > shop.door[0]:
            continue
        out.append(poster)
    return out


def facade_banner(rng: np.random.Generator, side: Pose, u: float, z: float, max_width: float) -> SceneObject:
    """A cloth banner hung flat on a wall: horizontal, or vertical down the floors."""
    if rng.random() < 0.7:
        height = float(rng.uniform(0.6, 1.1))
        width = float(min(rng.uniform(3.0, 10.0), max_width))
        face = _print(rng, prints.banner, width, height, PRINT_PPM // 2)
    else:
        width = float(rng.uniform(0.6, 1.0))
        height = float(rng.uniform(2.5, 6.0))
        z += height / 2
        face = _print(rng, prints.vertical_banner, width, height, PRINT_PPM // 2)
    part = panel(side, u, 0.04, z, width, height, (40, 40, 200), face)
    return SceneObject("facade_banner", BANNER, [part], LAYER_ON_FACADE, side.point(u, 0.04, z), shadow=False,
                       position=(u, 0.0))  # fmt: skip


def awning(rng: np.random.Generator, side: Pose, shop: ShopFront) -> SceneObject:
    """A fabric awning over a shop front (scenery, not labelled)."""
    reach = float(rng.uniform(0.7, 1.6))
    drop = reach * float(rng.uniform(0.3, 0.7))
    top = shop.sign_z[0] - 0.05
    width = shop.u1 - shop.u0
    tex = np.zeros((8, 64, 3), np.uint8)
    a, b = textures.jitter_color(rng, (40, 40, 180), 60), (235, 235, 235)
    for k in range(8):
        tex[:, k * 8 : k * 8 + 8] = a if k % 2 == 0 or rng.random() < 0.3 else b
    mid = side.point((shop.u0 + shop.u1) / 2, reach / 2, top - drop / 2)
    slope = side.vector(0, -reach, drop)
    normal = np.cross(side.vector(1, 0, 0), slope)
    normal = normal if normal[2] > 0 else -normal
    part = rect(mid, normal, slope, width, float(np.linalg.norm(slope)), a, tex)
    return SceneObject("awning", None, [part], anchor=mid, position=((shop.u0 + shop.u1) / 2, reach / 2))


def air_conditioner(side: Pose, u: float, z: float) -> SceneObject:
    """An outdoor air-conditioner unit on a wall (scenery)."""
    parts = box(side, (u, 0.18, z), (0.8, 0.3, 0.55), (225, 228, 228))
    parts.append(panel(side, u + 0.15, 0.331, z, 0.38, 0.38, (90, 90, 90)))
    return SceneObject("air_conditioner", None, parts, LAYER_ON_FACADE, side.point(u, 0.3, z), shadow=False)


def rooftop_addition(rng: np.random.Generator, side: Pose, info: Building) -> SceneObject | None:
    """A room added on a roof: blue or white steel, or brick, with a sloped or flat roof."""
    width = float(min(rng.uniform(3.0, 9.0), (info.u1 - info.u0) - 1.0))
    depth = float(min(rng.uniform(2.5, 5.5), info.depth - 1.0))
    if width < 2.0 or depth < 2.0:
        return None
    height = float(rng.uniform(2.3, 3.2))
    u = float(rng.uniform(info.u0 + width / 2 + 0.3, info.u1 - width / 2 - 0.3))
    v = -float(rng.uniform(0.1, min(2.0, max(info.depth - depth - 0.2, 0.3)))) - depth / 2
    z = info.height + height / 2
    steel = rng.random() < 0.7
    color = textures.pick_color(rng, STEEL_COLORS, 8) if steel else textures.jitter_color(rng, (70, 90, 150), 15)
    w_px, h_px = _px(width, 40), _px(height, 40)
    windows = int(rng.integers(0, 3))

    def wall(r: np.random.Generator, w: int, h: int) -> Image:
        k = w / w_px
        img = textures.corrugated(r, w, h, color, 6 * k) if steel else textures.brick(r, w, h, color, 16 * k)
        for _ in range(windows):
            gx, gy = int(r.integers(0, max(w - int(40 * k), 1))), int(h * 0.25)
            _put(img, gx, gy, textures.glass(r, max(int(36 * k), 2), max(h // 3, 2), (120, 110, 100)))
        return img

    front = textures.lazy(rng, w_px, h_px, wall)
    d_px = _px(depth, 40)
    side_tex = (
        textures.lazy(rng, d_px, h_px, lambda r, w, h: textures.corrugated(r, w, h, color, 6 * w / d_px))
        if steel
        else front
    )
    parts = box(side, (u, v, z), (width, depth, height), color, front=front, sides=side_tex)
    roof_color = textures.pick_color(rng, STEEL_COLORS, 8)
    rw, rd = _px(width, 30), _px(depth, 30)
    roof_tex = textures.lazy(rng, rw, rd, lambda r, w, h: textures.corrugated(r, w, h, roof_color, 6 * w / rw))
    parts += gable_roof(side, (u, v, info.height + height), (width + 0.3, depth + 0.3), float(rng.uniform(0.2, 1.0)),
                        roof_color, roof_tex, mono=bool(rng.random() < 0.6))  # fmt: skip
    return SceneObject("rooftop_addition", ROOFTOP_ADDITION, parts, LAYER_BEHIND, side.point(u, v, z), shadow=False,
                       position=(u, v))  # fmt: skip

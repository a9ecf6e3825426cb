"""Puts wooden terraces, café tables and plank-clad shop fronts into a scene, where the camera sees them.

They are unlabelled scenery: a detector must learn that boards in perspective are not a violation. They come from
their own random stream (see ``vision.synth.sample.make_sample``), so the rest of a scene stays as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vision.synth import objects_wood as wood
from vision.synth.camera import Camera
from vision.synth.objects_facade import ShopFront
from vision.synth.primitives import LAYER_STREET
from vision.synth.scene import Scene, side_pose


@dataclass(frozen=True)
class WoodSettings:
    """How often scenes get wood.

    Attributes:
        chance: Share of scenes that get wood at all.
        deck: Given wood, chance of a terrace deck in front of a shop in view (with its tables).
        front: Given wood, chance of a plank-clad shop front in view (always when no deck is wanted).
        tables: Put café tables and chairs on the decks.
    """

    chance: float = 0.4
    deck: float = 0.75
    front: float = 0.45
    tables: bool = True


def add_wood(rng: np.random.Generator, scene: Scene, camera: Camera, settings: WoodSettings | None = None) -> None:
    """Add wood to ``scene`` (appended after its objects) where ``camera`` sees it.

    Decks lie on the ground layer, drawn before anything standing, so they never hide a labelled object; tables
    keep clear of labelled things' footprints and occlude like any passer-by (labels follow what stays visible).
    """
    settings = settings or WoodSettings()
    if rng.random() >= settings.chance:
        return
    want_deck = rng.random() < settings.deck
    want_front = rng.random() < settings.front or not want_deck
    if want_deck:
        for side, u, v in _sidewalk_spots(rng, scene, camera, 8):
            if _deck(rng, scene, side, u, v, settings.tables):
                break
    shops = _shops_in_view(scene, camera)
    if want_front and shops:
        side, shop = shops[int(rng.integers(len(shops)))]
        scene.add(wood.wooden_front(rng, side_pose(scene.layout, side), shop), side)


def _sidewalk_spots(
    rng: np.random.Generator, scene: Scene, camera: Camera, count: int
) -> list[tuple[str, float, float]]:
    """Up to ``count`` random sidewalk points ``(side, u, v)`` seen in the picture's lower half, 2-20 m away."""
    layout = scene.layout
    xs = rng.uniform(0, camera.width, 4 * count)
    ys = rng.uniform(camera.height * 0.45, camera.height, 4 * count)
    rays = camera.pixel_rays(xs, ys)
    out = []
    for ray in rays:
        if ray[2] >= -1e-6:
            continue
        t = (layout.curb - camera.position[2]) / ray[2]
        x, y, _ = camera.position + t * ray
        if not 2.0 < t * float(np.linalg.norm(ray)) < 20.0:
            continue
        if 0.0 < y < layout.sidewalk_a:
            out.append(("A", layout.length - x, y))
        elif layout.facade_b - layout.sidewalk_b < y < layout.facade_b:
            out.append(("B", x, layout.facade_b - y))
        if len(out) == count:
            break
    return out


def _shops_in_view(scene: Scene, camera: Camera) -> list[tuple[str, ShopFront]]:
    """Shops whose front (at chest height) is in the picture, in front of the camera and not far."""
    out = []
    for side, building in scene.buildings:
        pose = side_pose(scene.layout, side)
        for shop in building.shops:
            px, depth = camera.project(pose.point((shop.u0 + shop.u1) / 2, 0.0, 1.2)[None])
            x, y = px[0]
            if 1.0 < depth[0] < 25.0 and 0 <= x < camera.width and 0 <= y < camera.height:
                out.append((side, shop))
    return out


def _deck(rng: np.random.Generator, scene: Scene, side: str, u: float, v: float, tables: bool) -> bool:
    """A deck against the facade reaching past ``(u, v)`` (not when that is by the curb), maybe with tables.

    Labelled things may stand on the deck (it is only floor); tables keep clear of them.
    """
    layout = scene.layout
    sidewalk = layout.sidewalk_a if side == "A" else layout.sidewalk_b
    depth = float(min(max(v + rng.uniform(0.3, 1.5), 1.6), 4.5, sidewalk - 0.9))
    if depth < max(v, 1.5):
        return False
    width = float(rng.uniform(3.0, 11.0))
    u += float(rng.uniform(-0.35, 0.35)) * width
    pose = side_pose(layout, side)
    scene.add(wood.deck(rng, pose, u, (width, depth)), side)
    if not tables:
        return True
    spots: list[tuple[float, float]] = []
    for _ in range(int(rng.integers(1, max(int(width * depth / 3), 1) + 2))):
        a = float(rng.uniform(u - width / 2 + 0.6, u + width / 2 - 0.6))
        b = float(rng.uniform(0.6, max(depth - 0.6, 0.7)))
        if _blocked(scene, side, (a - 0.7, a + 0.7), (b - 0.7, b + 0.7)):
            continue
        if all(abs(a - pa) > 1.4 or abs(b - pb) > 1.4 for pa, pb in spots):
            spots.append((a, b))
            table = wood.bistro_table(rng, pose.at(a, b, float(rng.uniform(0, 90)), z=0.0))
            scene.add(table, side, (a, b))
    return True


def _blocked(scene: Scene, side: str, span_u: tuple[float, float], span_v: tuple[float, float]) -> bool:
    """Whether a labelled thing standing on this sidewalk reaches into the rectangle (plus a margin)."""
    margin = 0.3
    pose = side_pose(scene.layout, side)
    for obj in scene.objects:
        if obj.class_id is None or obj.layer != LAYER_STREET or obj.side != side:
            continue
        local = (obj.points() - pose.offset) @ pose.matrix  # rows of (u, v, z above the sidewalk)
        if len(local) == 0 or float(local[:, 2].min()) > 1.0:  # hangs overhead (a projecting sign)
            continue
        (u0, v0, _), (u1, v1, _) = local.min(axis=0), local.max(axis=0)
        if u0 < span_u[1] + margin and span_u[0] - margin < u1 and v0 < span_v[1] + margin and span_v[0] - margin < v1:
            return True
    return False

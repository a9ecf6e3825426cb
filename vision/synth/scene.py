"""A street scene in metres: two facades, their sidewalks, the road, and everything placed on them.

``generate_scene(rng)`` builds it; the same ``Scene`` can be rendered from any camera, under any light.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from vision.synth import objects_facade as facade
from vision.synth import objects_scenery as scenery
from vision.synth import objects_street as street
from vision.synth import objects_structures as structures
from vision.synth.ground import BLOCKS_M, StreetLayout, far_blocks, ground_objects
from vision.synth.primitives import SceneObject
from vision.synth.shapes import Pose

SIDES = ("A", "B")
CONTENT_MARGIN_M = 10.0  # labelled content runs this far beyond the segment


@dataclass(eq=False)
class Scene:
    """A generated street.

    Attributes:
        layout: The street's cross-section and length.
        objects: Everything in it; ``object_id`` is the index in this list.
        buildings: Each building built, with its side: where its shops are (for dressing the scene later).
    """

    layout: StreetLayout
    objects: list[SceneObject] = field(default_factory=list)
    buildings: list[tuple[str, facade.Building]] = field(default_factory=list)

    def add(self, obj: SceneObject, side: str = "", position: tuple[float, float] | None = None) -> SceneObject:
        """Append ``obj``, giving it the next object id (and its side and place on that side)."""
        obj.object_id = len(self.objects)
        if side:
            obj.side = side
        if position is not None:
            obj.position = position
        self.objects.append(obj)
        return obj

    def labelled(self) -> list[SceneObject]:
        """The objects that carry a class."""
        return [o for o in self.objects if o.class_id is not None]


def side_pose(layout: StreetLayout, side: str) -> Pose:
    """Local frame of a side: ``u`` along its facade (right when facing it), ``v`` towards the street, ``z`` up."""
    if side == "A":
        return Pose(np.diag([-1.0, 1.0, 1.0]), np.array([layout.length, 0.0, layout.curb]))
    return Pose(np.diag([1.0, -1.0, 1.0]), np.array([0.0, layout.facade_b, layout.curb]))


class _Occupancy:
    """Footprints taken on one sidewalk, as ``(u0, u1, v0, v1)`` rectangles."""

    def __init__(self) -> None:
        self.rects: list[tuple[float, float, float, float]] = []

    def take(self, u: float, v: float, size: tuple[float, float]) -> bool:
        half_u, half_v = size[0] / 2, size[1] / 2
        box = (u - half_u, u + half_u, v - half_v, v + half_v)
        for r in self.rects:
            if box[0] < r[1] and r[0] < box[1] and box[2] < r[3] and r[2] < box[3]:
                return False
        self.rects.append(box)
        return True


@dataclass(frozen=True)
class Density:
    """Expected counts per 10 m of street of each kind of placed thing (scaled per scene)."""

    stalls: float = 0.7
    piles: float = 0.45
    ad_boards: float = 0.8
    sheds: float = 0.3
    banners: float = 0.6
    pole_posters: float = 0.5
    people: float = 2.5


def generate_scene(
    rng: np.random.Generator,
    layout: StreetLayout | None = None,
    spans: dict[str, tuple[float, float]] | None = None,
    density: Density | None = None,
    passers: bool = True,
) -> Scene:
    """Build a street scene.

    Args:
        rng: The only source of randomness (same state, same scene).
        layout: The street's cross-section; drawn from ``rng`` when not given.
        spans: Per side, the stretch ``(u0, u1)`` to build (what the cameras will see; see
            ``vision.synth.views.visible_spans``); sides left out stay bare. ``None`` builds everything.
        density: Expected numbers of things per 10 m; each scene scales them by a random factor.
        passers: Include people walking and traffic passing (``make_passers``); off for scenes rendered on
            several days, which get their own passers each time.
    """
    density = density or Density()
    layout = layout or StreetLayout.sample(rng)
    scene = Scene(layout)
    for obj in ground_objects(rng, layout):
        scene.add(obj)
    for obj in far_blocks(rng, layout):
        scene.add(obj)
    full = (-BLOCKS_M, layout.length + BLOCKS_M)
    for side in SIDES:
        span = full if spans is None else spans.get(side)
        if span is not None:
            clipped = (max(span[0], full[0]), min(span[1], full[1]))
            if clipped[1] > clipped[0]:
                _populate_side(rng, scene, side, clipped, density)
    _populate_road(rng, scene, full if spans is None else _road_span(spans, layout))
    if passers:
        for obj in make_passers(rng, scene, spans, density):
            scene.add(obj, obj.side, obj.position if obj.side else None)
    return scene


def _road_span(spans: dict[str, tuple[float, float]], layout: StreetLayout) -> tuple[float, float]:
    xs = []
    for side, (u0, u1) in spans.items():
        xs += [layout.length - u0, layout.length - u1] if side == "A" else [u0, u1]
    return (min(xs), max(xs)) if xs else (0.0, 0.0)


def _populate_side(
    rng: np.random.Generator, scene: Scene, side: str, span: tuple[float, float], density: Density
) -> None:
    layout = scene.layout
    pose = side_pose(layout, side)
    width = layout.sidewalk_a if side == "A" else layout.sidewalk_b
    taken = _Occupancy()
    u = span[0] - float(rng.uniform(0, 20))
    gap_before = False
    while u < span[1]:
        width_m = float(rng.uniform(8, 28))
        gap = bool(rng.random() < 0.2)
        parts, info = facade.building(rng, pose, u, width_m, (gap_before, gap))
        for obj in parts:
            scene.add(obj, side, (u + width_m / 2, 0.0))
        scene.buildings.append((side, info))
        _dress_building(rng, scene, side, pose, info, width, taken)
        u += width_m + (float(rng.uniform(1.5, 6.0)) if gap else 0.0)
        gap_before = gap
    place = _Placer(rng, scene, side, pose, taken, span)
    _street_furniture(place, width)
    _street_violations(place, width, density)


def _dress_building(
    rng: np.random.Generator,
    scene: Scene,
    side: str,
    pose: Pose,
    info: facade.Building,
    width: float,
    taken: _Occupancy,
) -> None:
    for shop in info.shops:
        _dress_shop(rng, scene, side, pose, info, shop, width, taken)
    for _ in range(int(rng.poisson(1.5)) if info.height > info.ground_height + 2 else 0):
        u = float(rng.uniform(info.u0 + 0.6, info.u1 - 0.6))
        z = float(rng.uniform(info.ground_height + 0.8, info.height - 0.8))
        scene.add(facade.air_conditioner(pose, u, z), side, (u, 0.0))
    if rng.random() < 0.35 and info.height > info.ground_height + 2:
        u = float(rng.uniform(info.u0 + 2, info.u1 - 2))
        z = float(rng.uniform(info.ground_height + 0.8, info.height - 1.5))
        scene.add(facade.facade_banner(rng, pose, u, z, info.u1 - info.u0 - 1.0), side, (u, 0.0))
    low = info.height < 12.0  # additions are seen from the street mostly on low buildings
    if rng.random() < (0.85 if low else 0.35):
        addition = facade.rooftop_addition(rng, pose, info)
        if addition is not None:
            scene.add(addition, side)


def _dress_shop(
    rng: np.random.Generator,
    scene: Scene,
    side: str,
    pose: Pose,
    info: facade.Building,
    shop: facade.ShopFront,
    width: float,
    taken: _Occupancy,
) -> None:
    if rng.random() < 0.85:
        scene.add(facade.signboard(rng, pose, shop), side)
    lean_to = rng.random() < 0.1 and width > 3.0
    if lean_to:
        shop_w = shop.u1 - shop.u0
        obj = structures.lean_to(rng, pose, (shop.u0 + shop.u1) / 2, shop_w)
        if taken.take((shop.u0 + shop.u1) / 2, 1.2, (shop_w, 2.4)):
            scene.add(obj, side)
    elif rng.random() < 0.15:
        scene.add(facade.awning(rng, pose, shop), side)
    for window in shop.windows:
        for _ in range(int(rng.choice([0, 0, 1, 1, 2, 3]))):
            ad = facade.window_ad(rng, pose, window)
            if ad is not None:
                scene.add(ad, side)
    if rng.random() < 0.35:
        top = min(info.height - 0.8, shop.sign_z[1] + 2.5)
        z = float(rng.uniform(shop.sign_z[0] + 0.4, max(top, shop.sign_z[0] + 0.5)))
        u = shop.u1 + float(rng.uniform(-0.4, 0.1))
        scene.add(facade.cantilever(rng, pose, u, z), side)
    if rng.random() < 0.3:
        for poster in facade.shop_posters(rng, pose, shop):
            scene.add(poster, side)
    if rng.random() < 0.35:
        u, v = (shop.door[0] + shop.door[1]) / 2 + float(rng.normal(0, 0.5)), float(rng.uniform(0.35, 0.9))
        obj, size = street.goods_display(rng, pose.at(u, v, float(rng.normal(0, 5))))
        if taken.take(u, v, size):
            scene.add(obj, side, (u, v))


class _Placer:
    """Puts things on one side's sidewalk within the stretch being built, without overlaps."""

    def __init__(
        self,
        rng: np.random.Generator,
        scene: Scene,
        side: str,
        pose: Pose,
        taken: _Occupancy,
        span: tuple[float, float],
    ) -> None:
        self.rng, self.scene, self.side, self.pose, self.taken, self.span = rng, scene, side, pose, taken, span

    def u(self) -> float:
        """A random place along the stretch."""
        return float(self.rng.uniform(*self.span))

    def count(self, per_10m: float) -> int:
        """How many of a thing this stretch gets (Poisson, scaled by a per-scene whim)."""
        length = self.span[1] - self.span[0]
        return int(self.rng.poisson(per_10m * length / 10.0 * self.rng.uniform(0.3, 1.7)))

    def add(self, obj: SceneObject, u: float, v: float) -> None:
        """Add an object standing at ``(u, v)``."""
        self.scene.add(obj, self.side, (u, v))

    def place(
        self,
        build: Callable[[np.random.Generator, Pose], tuple[SceneObject, tuple[float, float]]],
        v_range: tuple[float, float],
        tries: int = 6,
    ) -> bool:
        """Build a thing at a free random spot (a few tries), mostly square to the street."""
        rng = self.rng
        for _ in range(tries):
            u, v = self.u(), float(rng.uniform(*v_range))
            heading = float(rng.normal(0, 8)) if rng.random() < 0.8 else float(rng.uniform(-90, 90))
            obj, size = build(rng, self.pose.at(u, v, heading))
            if self.taken.take(u, v, size):
                self.add(obj, u, v)
                return True
        return False


def _street_furniture(place: _Placer, width: float) -> None:
    rng, pose = place.rng, place.pose
    line = width - float(rng.uniform(0.4, 0.7))
    if rng.random() < 0.65:
        for u in np.arange(place.span[0] + float(rng.uniform(0, 8)), place.span[1], float(rng.uniform(5, 9))):
            if place.taken.take(float(u), line, (0.8, 0.8)):
                place.add(scenery.tree(rng, pose.point(float(u), line, 0)), float(u), line)
    for u in np.arange(place.span[0] + float(rng.uniform(0, 25)), place.span[1], float(rng.uniform(20, 35))):
        if place.taken.take(float(u), line, (0.4, 0.4)):
            place.add(scenery.street_lamp(rng, pose.at(float(u), line)), float(u), line)
    for _ in range(place.count(0.5)):
        u = place.u()
        objs, size = structures.utility_box(rng, pose.at(u, line - 0.2))
        if place.taken.take(u, line - 0.2, size):
            for obj in objs:
                place.add(obj, u, line - 0.2)
    for maker, per_10m in ((scenery.bin_, 0.3), (scenery.planter, 0.2), (scenery.cones_and_bollards, 0.1)):
        for _ in range(place.count(per_10m)):
            u = place.u()
            if place.taken.take(u, line, (1.2, 0.8)):
                place.add(maker(rng, pose.at(u, line)), u, line)
    if rng.random() < 0.25:
        u, run = place.u(), float(rng.uniform(8, 30))
        place.add(scenery.railing(rng, pose.at(u, width - 0.15), run), u, width - 0.15)
    for _ in range(place.count(0.4)):  # parked bikes and scooters
        u, v = place.u(), float(rng.uniform(0.5, width - 0.5))
        if place.taken.take(u, v, (1.0, 1.2)):
            for obj in scenery.two_wheeler(rng, pose.point(u, v, 0), bool(rng.random() < 0.6), False):
                place.add(obj, u, v)


def _street_violations(place: _Placer, width: float, density: Density) -> None:
    rng, pose = place.rng, place.pose
    walk = (0.8, max(width - 0.8, 1.0))
    for _ in range(place.count(density.stalls)):
        place.place(street.VENDOR_BUILDERS[int(rng.integers(len(street.VENDOR_BUILDERS)))], walk)
    for _ in range(place.count(density.piles)):
        place.place(street.material_pile, (0.6, max(width - 0.6, 0.7)))
    for _ in range(place.count(density.ad_boards)):
        place.place(street.ad_board, (0.4, max(width - 0.4, 0.5)))
    for _ in range(place.count(density.sheds)):
        place.place(structures.shed, (1.5, max(width - 1.0, 1.6)))
    for _ in range(place.count(density.banners)):
        u, span = place.u(), float(rng.uniform(3, 9))
        v = width - float(rng.uniform(0.3, 0.6)) if rng.random() < 0.7 else float(rng.uniform(1.0, width))
        if place.taken.take(u, v, (span, 0.3)):
            objs, _ = structures.strung_banner(rng, pose.at(u, v), span)
            for obj in objs:
                place.add(obj, u, v)
    for _ in range(place.count(density.pole_posters)):
        u, v = place.u(), width - float(rng.uniform(0.3, 0.7))
        if place.taken.take(u, v, (0.4, 0.4)):
            pole_pose = pose.at(u, v)
            place.add(structures.pole(pole_pose, 0, 0, float(rng.uniform(3, 7)), 0.07), u, v)
            for obj in structures.pole_posters(rng, pole_pose, 0.07):
                place.add(obj, u, v)


def _populate_road(rng: np.random.Generator, scene: Scene, span: tuple[float, float]) -> None:
    """Cars parked along both curbs."""
    layout = scene.layout
    world = Pose.identity()
    lo, hi = span
    for y in (layout.sidewalk_a + 1.2, layout.facade_b - layout.sidewalk_b - 1.2):
        x = lo + float(rng.uniform(0, 10))
        while x < hi:
            if rng.random() < 0.45:
                scene.add(scenery.car(rng, world.at(x, y, float(rng.normal(0, 2)))))
            x += float(rng.uniform(5.5, 12))


def make_passers(
    rng: np.random.Generator,
    scene: Scene,
    spans: dict[str, tuple[float, float]] | None = None,
    density: Density | None = None,
) -> list[SceneObject]:
    """People walking by and traffic passing, for one moment in the street (not added to the scene).

    Each call gives other passers-by for the same street, as on another day; their object ids follow the scene's.
    """
    density = density or Density()
    layout = scene.layout
    full = (-BLOCKS_M, layout.length + BLOCKS_M)
    out: list[SceneObject] = []
    for side in SIDES:
        span = full if spans is None else spans.get(side)
        if span is None or span[1] <= span[0]:
            continue
        pose = side_pose(layout, side)
        width = layout.sidewalk_a if side == "A" else layout.sidewalk_b
        length = span[1] - span[0]
        for _ in range(int(rng.poisson(density.people * length / 10.0 * rng.uniform(0.3, 1.7)))):
            u, v = float(rng.uniform(*span)), float(rng.uniform(0.3, width - 0.2))
            person = scenery.person(rng, pose.point(u, v, 0))
            person.side, person.position = side, (u, v)
            out.append(person)
    lo, hi = full if spans is None else _road_span(spans, layout)
    road = (layout.sidewalk_a, layout.facade_b - layout.sidewalk_b)
    world = Pose.identity()
    scale = max(hi - lo, 0.0) / 60.0
    for _ in range(int(rng.poisson(2 * scale)) if layout.road >= 9 else 0):  # moving traffic
        y, x = float(rng.uniform(road[0] + 3, road[1] - 3)), float(rng.uniform(lo, hi))
        out.append(scenery.car(rng, world.at(x, y, float(rng.choice([0, 180])))))
    for _ in range(int(rng.poisson(1.5 * scale))):
        y, x = float(rng.uniform(road[0] + 0.5, road[1] - 0.5)), float(rng.uniform(lo, hi))
        out += scenery.two_wheeler(rng, np.array([x, y, 0.0]), True, True)
    for k, obj in enumerate(out):
        obj.object_id = len(scene.objects) + k
    return out

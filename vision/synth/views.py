"""Where cameras stand: patrol vehicles, pole cameras, people across the street."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vision.synth.camera import Camera
from vision.synth.ground import StreetLayout
from vision.synth.primitives import LAYER_STREET, SceneObject

VIEW_KINDS = ("patrol", "pole", "across", "sidewalk")


@dataclass(frozen=True)
class ViewSpec:
    """A camera placement in street terms, before it becomes a ``Camera``.

    Attributes:
        kind: One of ``VIEW_KINDS``.
        position: ``(x, y, z)`` in world metres.
        yaw_deg: Heading, degrees counter-clockwise from ``+x``.
        pitch_deg: Degrees above the horizon.
        roll_deg: Tilt about the view axis.
        hfov_deg: Horizontal field of view.
        facing: The facade side mostly in view (``"A"`` or ``"B"``), or ``""`` for views down the street.
    """

    kind: str
    position: tuple[float, float, float]
    yaw_deg: float
    pitch_deg: float
    roll_deg: float
    hfov_deg: float
    facing: str

    def camera(self, size: tuple[int, int]) -> Camera:
        """The pinhole camera for an image ``size = (width, height)``."""
        return Camera.look(self.position, self.yaw_deg, self.pitch_deg, self.hfov_deg, size, self.roll_deg)

    def moved(
        self, dx: float = 0.0, dy: float = 0.0, dz: float = 0.0, dyaw: float = 0.0, dpitch: float = 0.0
    ) -> ViewSpec:
        """The same view, shifted (for small-camera-shift pairs and moving clips)."""
        x, y, z = self.position
        return ViewSpec(self.kind, (x + dx, y + dy, z + dz), self.yaw_deg + dyaw, self.pitch_deg + dpitch,
                        self.roll_deg, self.hfov_deg, self.facing)  # fmt: skip


def _mirror(view: ViewSpec, layout: StreetLayout) -> ViewSpec:
    """The same placement seen from the other side of the street (facade B instead of A)."""
    x, y, z = view.position
    facing = {"A": "B", "B": "A"}.get(view.facing, "")
    return ViewSpec(view.kind, (x, layout.facade_b - y, z), -view.yaw_deg, view.pitch_deg, -view.roll_deg,
                    view.hfov_deg, facing)  # fmt: skip


def sample_view(rng: np.random.Generator, layout: StreetLayout, kind: str | None = None) -> ViewSpec:
    """Draw a camera placement that looks at the detailed street segment."""
    kind = kind or str(rng.choice(VIEW_KINDS, p=[0.35, 0.25, 0.25, 0.15]))
    length, u = layout.length, rng.uniform
    oblique = float(u(10, 65)) * float(rng.choice([-1, 1]))
    roll = float(rng.normal(0, 1.2))
    if kind == "patrol":
        lane = layout.sidewalk_a + float(u(1.2, max(min(layout.road / 2, 5.5), 1.5)))
        view = ViewSpec(kind, (float(u(0.2, 0.8)) * length, lane, float(u(1.4, 2.6))), -90 + oblique,
                        float(u(-3, 12)), roll, float(u(55, 95)), "A")  # fmt: skip
    elif kind == "pole":
        forward = rng.random() < 0.5
        x = float(u(0.0, 0.25)) * length if forward else float(u(0.75, 1.0)) * length
        turn = float(u(5, 40))
        yaw = -turn if forward else 180 + turn
        y = float(u(max(layout.sidewalk_a - 1.0, 0.5), layout.sidewalk_a + layout.road))
        view = ViewSpec(kind, (x, y, float(u(3.0, 8.0))), yaw, -float(u(8, 28)), roll, float(u(50, 85)), "A")
    elif kind == "across":
        y = layout.facade_b - float(u(0.5, max(layout.sidewalk_b - 0.3, 0.6)))
        z = float(u(1.5, 1.8)) if rng.random() < 0.6 else float(u(2.0, 5.0))
        view = ViewSpec(kind, (float(u(0.2, 0.8)) * length, y, z), -90 + oblique * 0.5, float(u(-2, 14)), roll,
                        float(u(50, 85)), "A")  # fmt: skip
    else:  # walking along the sidewalk, looking along the shop fronts
        y = float(u(1.5, max(layout.sidewalk_a - 0.4, 1.6)))
        yaw = float(rng.choice([-1, 1])) * float(u(15, 45)) - 90 + 90 * float(rng.choice([-1, 1]))
        facing = "A" if math.sin(math.radians(yaw)) < 0 else ""  # turned towards the shops, or the road
        view = ViewSpec(kind, (float(u(0.15, 0.85)) * length, y, float(u(1.5, 1.8))), yaw, float(u(-5, 10)), roll,
                        float(u(55, 85)), facing)  # fmt: skip
    return _mirror(view, layout) if rng.random() < 0.5 else view


def visible_spans(
    camera: Camera, layout: StreetLayout, max_distance: float = 120.0, margin: float = 4.0
) -> dict[str, tuple[float, float]]:
    """Stretch of each side (in its ``u`` coordinate) the camera can see within ``max_distance``.

    Rays on a coarse pixel grid are met with each facade plane and each sidewalk; sides not seen are left out.
    """
    xs, ys = np.meshgrid(np.linspace(0, camera.width, 25), np.linspace(0, camera.height, 15))
    rays = camera.pixel_rays(xs.ravel(), ys.ravel())
    rays /= np.linalg.norm(rays, axis=1, keepdims=True)
    origin = camera.position
    spans: dict[str, tuple[float, float]] = {}
    for side, y_facade, y_curb in (
        ("A", 0.0, layout.sidewalk_a),
        ("B", layout.facade_b, layout.facade_b - layout.sidewalk_b),
    ):
        hits = []
        dy = rays[:, 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            t_wall = (y_facade - origin[1]) / dy
            wall = origin + t_wall[:, None] * rays
            ok = (t_wall > 0) & (t_wall < max_distance) & (wall[:, 2] > -1) & (wall[:, 2] < 60)
            hits.append(wall[ok, 0])
            t_floor = (layout.curb - origin[2]) / rays[:, 2]
            floor = origin + t_floor[:, None] * rays
            lo, hi = min(y_facade, y_curb), max(y_facade, y_curb)
            ok = (t_floor > 0) & (t_floor < max_distance) & (floor[:, 1] >= lo) & (floor[:, 1] <= hi)
            hits.append(floor[ok, 0])
        x = np.concatenate(hits)
        if len(x) == 0:
            continue
        u = layout.length - x if side == "A" else x
        spans[side] = (float(u.min()) - margin, float(u.max()) + margin)
    return spans


def clear_of_camera(objects: list[SceneObject], camera: Camera, clearance_m: float = 1.5) -> list[SceneObject]:
    """Drop street objects closer than ``clearance_m`` to the camera (a camera does not stand inside a tree).

    Ground, facades and the sky are kept. The kept objects are returned in their order.
    """
    out = []
    for obj in objects:
        if obj.layer == LAYER_STREET:
            center, radius = obj.bounds()
            if float(np.linalg.norm(center - camera.position)) - radius < clearance_m:
                continue
        out.append(obj)
    return out

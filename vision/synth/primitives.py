"""What a scene is made of: world-space primitives grouped into objects."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from vision.synth.painter import Painter
    from vision.synth.textures import Lazy

Array = npt.NDArray[np.float64]
Image = npt.NDArray[np.uint8]
Color = tuple[float, float, float]  # BGR, 0-255

# Draw layers: lower layers are painted first, whatever their distance.
LAYER_SKY, LAYER_GROUND, LAYER_BEHIND, LAYER_FACADE, LAYER_ON_FACADE, LAYER_STREET = range(6)


@dataclass(frozen=True, eq=False)
class Poly:
    """A planar convex polygon, flat-coloured or textured.

    Attributes:
        points: ``(N, 3)`` world corners in order around the polygon.
        color: BGR colour (used when there is no texture, and for the id silhouette).
        normal: Outward unit normal, for lighting and back-face culling.
        texture: Optional BGR texture mapped by ``tex_axes``.
        tex_axes: ``(origin, axis_s, axis_t)``: world position of texture pixel (0, 0) and the world step of
            one texture pixel along its columns and rows.
        tile: Repeat the texture beyond its edges (ground planes).
        cull: Skip the polygon when seen from behind (faces of closed solids).
        lit: Shade by the sun; ``False`` for light boxes and the sky.
        ground: Fog per pixel from the ground distance (large ground planes) instead of one value.
    """

    points: Array
    color: Color
    normal: Array
    texture: Image | Lazy | None = None
    tex_axes: tuple[Array, Array, Array] | None = None
    tile: bool = False
    cull: bool = False
    lit: bool = True
    ground: bool = False


@dataclass(frozen=True, eq=False)
class Ball:
    """A sphere drawn as its projected disc (fruit, heads of bushes, tree crowns)."""

    center: Array
    radius: float
    color: Color


@dataclass(frozen=True, eq=False)
class Rod:
    """A thin cylinder drawn as a thick line (poles, legs, pipes, wires)."""

    start: Array
    end: Array
    radius: float
    color: Color


@dataclass(frozen=True, eq=False)
class Sprite:
    """An upright figure drawn in 2-D at the projected size of its base point (people, bikes, trees).

    ``draw(painter, base_x, base_y, px_per_m)`` paints it with the base (feet) at the given pixel.
    """

    base: Array
    height_m: float
    width_m: float
    draw: Callable[[Painter, float, float, float], None]


Primitive = Poly | Ball | Rod | Sprite


@dataclass(eq=False)
class SceneObject:
    """One thing in the scene; labelled when ``class_id`` is set.

    Attributes:
        kind: What it is, in words (``umbrella_stall``, ``person``): for truth files and debugging.
        class_id: Detector class id, or ``None`` for distractors and scenery.
        parts: Its primitives, painted back to front.
        layer: Draw layer (see ``LAYER_*``); objects are depth-sorted within a layer.
        anchor: World point used for depth sorting.
        depth_bias: Metres to pull it forward in the sort (a poster on a pole is painted after the pole).
        shadow: Whether it casts a ground shadow.
        object_id: Stable id within its scene (set by the scene), the same in every render of it.
        side: Which facade side it belongs to (``"A"``, ``"B"``) or ``""``.
        position: ``(along_m, from_facade_m)`` on its side, for truth files and maps.
    """

    kind: str
    class_id: int | None
    parts: Sequence[Primitive]
    layer: int = LAYER_STREET
    anchor: Array = field(default_factory=lambda: np.zeros(3))
    depth_bias: float = 0.0
    shadow: bool = True
    object_id: int = -1
    side: str = ""
    position: tuple[float, float] = (0.0, 0.0)
    _bounds: tuple[Array, float] | None = field(default=None, repr=False, compare=False)

    def bounds(self) -> tuple[Array, float]:
        """Bounding sphere ``(center, radius)`` of its parts (cached: parts do not change once built)."""
        if self._bounds is None:
            pts = self.points()
            if len(pts) == 0:
                self._bounds = (self.anchor, 0.0)
            else:
                lo, hi = pts.min(axis=0), pts.max(axis=0)
                center = (lo + hi) / 2
                radius = float(np.sqrt(((pts - center) ** 2).sum(axis=1).max()))
                for part in self.parts:
                    if isinstance(part, Ball):
                        radius = max(radius, float(np.linalg.norm(part.center - center)) + part.radius)
                    elif isinstance(part, Sprite):
                        radius += part.width_m
                self._bounds = (center, radius)
        return self._bounds

    def points(self) -> Array:
        """All corner / end points of its parts, ``(M, 3)``."""
        chunks: list[Array] = []
        for part in self.parts:
            if isinstance(part, Poly):
                chunks.append(part.points)
            elif isinstance(part, Rod):
                chunks.append(np.stack([part.start, part.end]))
            elif isinstance(part, Ball):
                chunks.append(part.center[None] + np.array([[0, 0, part.radius], [0, 0, -part.radius]]))
            else:
                top = part.base + np.array([0.0, 0.0, part.height_m])
                chunks.append(np.stack([part.base, top]))
        return np.concatenate(chunks) if chunks else np.zeros((0, 3))

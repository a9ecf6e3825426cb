"""Things that move during a clip: objects shifted over time, appearing and leaving."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from vision.synth.primitives import Array, Ball, Poly, Primitive, Rod, SceneObject, Sprite


def translated(obj: SceneObject, offset: Array) -> SceneObject:
    """A copy of ``obj`` moved by ``offset`` (metres, world frame); textures are shared, not remade."""
    offset = np.asarray(offset, np.float64)
    parts: list[Primitive] = []
    for part in obj.parts:
        if isinstance(part, Poly):
            axes = part.tex_axes
            moved_axes = None if axes is None else (axes[0] + offset, axes[1], axes[2])
            parts.append(replace(part, points=part.points + offset, tex_axes=moved_axes))
        elif isinstance(part, Ball):
            parts.append(replace(part, center=part.center + offset))
        elif isinstance(part, Rod):
            parts.append(replace(part, start=part.start + offset, end=part.end + offset))
        elif isinstance(part, Sprite):
            parts.append(replace(part, base=part.base + offset))
    bounds = obj._bounds
    moved = replace(obj, parts=parts, anchor=obj.anchor + offset, _bounds=None)
    if bounds is not None:
        moved._bounds = (bounds[0] + offset, bounds[1])
    return moved


@dataclass(frozen=True, eq=False)
class Mover:
    """An object that exists from ``start`` to ``end`` seconds and moves at ``velocity`` (m/s) meanwhile.

    Attributes:
        obj: The object as it is at ``start``.
        velocity: ``(vx, vy)`` in the world frame.
        start: When it appears (seconds from the clip start).
        end: When it is gone.
        stop: Optional ``(from, to)`` seconds during which it stands still (a vendor stopping).
    """

    obj: SceneObject
    velocity: tuple[float, float]
    start: float
    end: float
    stop: tuple[float, float] | None = None

    def travelled(self, t: float) -> float:
        """Seconds of movement between ``start`` and ``t``."""
        moving = t - self.start
        if self.stop is not None:
            a, b = self.stop
            moving -= max(0.0, min(t, b) - a)
        return moving

    def at(self, t: float) -> SceneObject | None:
        """The object at time ``t``, or ``None`` outside its time."""
        if not self.start <= t < self.end:
            return None
        seconds = self.travelled(t)
        if seconds == 0.0:
            return self.obj
        return translated(self.obj, np.array([self.velocity[0] * seconds, self.velocity[1] * seconds, 0.0]))

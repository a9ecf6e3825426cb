"""A pinhole camera in street coordinates (metres) and the projections the renderer needs.

World frame: ``x`` along the street, ``y`` from facade A (``y = 0``) across the road, ``z`` up.
Camera frame: ``x`` right, ``y`` down, ``z`` forward (OpenCV convention).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]

NEAR_M = 0.05  # geometry closer than this to the camera plane is clipped away


@dataclass(frozen=True, eq=False)
class Camera:
    """A pinhole camera.

    Attributes:
        position: ``(3,)`` camera centre in world metres.
        rotation: ``(3, 3)`` world-to-camera rotation (rows: right, down, forward).
        focal_px: Focal length in pixels (square pixels).
        width: Image width in pixels.
        height: Image height in pixels.
    """

    position: Array
    rotation: Array
    focal_px: float
    width: int
    height: int

    @classmethod
    def look(
        cls,
        position: tuple[float, float, float] | Array,
        yaw_deg: float,
        pitch_deg: float,
        hfov_deg: float,
        size: tuple[int, int],
        roll_deg: float = 0.0,
    ) -> Camera:
        """Build a camera from a heading.

        Args:
            position: Camera centre ``(x, y, z)`` in metres.
            yaw_deg: Heading in the ground plane, degrees counter-clockwise from ``+x``.
            pitch_deg: Degrees above the horizon (negative looks down).
            hfov_deg: Horizontal field of view in degrees.
            size: Image ``(width, height)`` in pixels.
            roll_deg: Rotation about the viewing axis in degrees.
        """
        yaw, pitch, roll = math.radians(yaw_deg), math.radians(pitch_deg), math.radians(roll_deg)
        forward = np.array([math.cos(pitch) * math.cos(yaw), math.cos(pitch) * math.sin(yaw), math.sin(pitch)])
        right = np.cross(forward, [0.0, 0.0, 1.0])
        right /= np.linalg.norm(right)
        down = np.cross(forward, right)
        cos_r, sin_r = math.cos(roll), math.sin(roll)
        right, down = cos_r * right + sin_r * down, -sin_r * right + cos_r * down
        width, height = size
        focal = width / 2.0 / math.tan(math.radians(hfov_deg) / 2.0)
        return cls(np.asarray(position, np.float64), np.stack([right, down, forward]), focal, width, height)

    @property
    def intrinsics(self) -> Array:
        """The ``(3, 3)`` intrinsic matrix K."""
        return np.array(
            [[self.focal_px, 0.0, self.width / 2.0], [0.0, self.focal_px, self.height / 2.0], [0.0, 0.0, 1.0]]
        )

    @property
    def forward(self) -> Array:
        """Unit viewing direction in world coordinates."""
        return self.rotation[2]

    def to_camera(self, points: Array) -> Array:
        """World points ``(N, 3)`` to camera coordinates ``(N, 3)``."""
        return (np.asarray(points, np.float64) - self.position) @ self.rotation.T

    def project_camera(self, points_cam: Array) -> Array:
        """Camera-frame points ``(N, 3)`` with positive depth to pixels ``(N, 2)``."""
        z = points_cam[:, 2:3]
        return points_cam[:, :2] / z * self.focal_px + np.array([self.width / 2.0, self.height / 2.0])

    def project(self, points: Array) -> tuple[Array, Array]:
        """World points to pixels.

        Returns:
            ``(pixels (N, 2), depth (N,))``; pixels of points behind the camera are meaningless.
        """
        cam = self.to_camera(points)
        depth = cam[:, 2]
        safe = cam.copy()
        safe[:, 2] = np.maximum(depth, 1e-6)
        return self.project_camera(safe), depth

    def plane_homography(self, origin: Array, axis_s: Array, axis_t: Array) -> Array:
        """Homography from texture pixels ``(s, t)`` to image pixels for the plane ``origin + s*axis_s + t*axis_t``."""
        columns = np.stack(
            [self.rotation @ axis_s, self.rotation @ axis_t, self.rotation @ (origin - self.position)], axis=1
        )
        return self.intrinsics @ columns

    def pixel_rays(self, xs: Array, ys: Array) -> Array:
        """World directions (not normalised) of the rays through pixel coordinates; shape ``xs.shape + (3,)``."""
        cam = np.stack(
            [
                (xs - self.width / 2.0) / self.focal_px,
                (ys - self.height / 2.0) / self.focal_px,
                np.ones_like(xs, dtype=np.float64),
            ],
            axis=-1,
        )
        return cam @ self.rotation


def clip_near(points_cam: Array, near: float = NEAR_M) -> Array:
    """Clip a planar polygon (camera frame, ``(N, 3)``) to the half-space ``z >= near`` (Sutherland-Hodgman)."""
    inside = points_cam[:, 2] >= near
    if inside.all():
        return points_cam
    if not inside.any():
        return points_cam[:0]
    out: list[Array] = []
    count = len(points_cam)
    for i in range(count):
        current, following = points_cam[i], points_cam[(i + 1) % count]
        current_in, following_in = inside[i], inside[(i + 1) % count]
        if current_in:
            out.append(current)
        if current_in != following_in:
            t = (near - current[2]) / (following[2] - current[2])
            out.append(current + t * (following - current))
    return np.array(out) if out else points_cam[:0]

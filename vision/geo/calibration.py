"""Fixed cameras: a ground-plane homography from image pixels to the map, calibrated from point pairs.

A fixed camera is calibrated once: pick four or more points on the ground that are visible in the image (kerb
corners, manhole covers, road markings) and their latitude/longitude from a map. The homography maps the image
onto the ground plane in local metres around the pairs' centre; an object's map position is where the bottom-centre
of its box (its footprint) lands.

    >>> calibration = GroundCalibration.from_pairs(image_points, map_points)
    >>> calibration.locate(box)  # GeoPoint with accuracy_m, or None above the horizon
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from vision.frame import GeoPoint
from vision.geo.errors import CalibrationError
from vision.geo.local import Array, LocalFrame

MIN_PAIRS = 4
_COLLINEAR = 1e-2  # spread across a point set below 1% of its spread along: the points lie on a line
_MIN_DISTINCT_PX = 1.0  # image points closer than this are one point
_MIN_DISTINCT_M = 0.05  # map points closer than this are one point


@dataclass(frozen=True, eq=False)
class GroundCalibration:
    """A fixed camera's mapping from image pixels on the ground to latitude/longitude.

    Build it with ``from_pairs`` or ``from_dict``; the stored form (``to_dict``) keeps only the point pairs.

    Attributes:
        image_points: ``(N, 2)`` pixel ``(x, y)`` of the calibration points.
        map_points: ``(N, 2)`` ``(lat, lon)`` degrees of the same points.
        frame: The local metric frame (centred on the map points) the homography maps into.
        homography: ``(3, 3)`` image pixels → local ``(east, north)`` metres.
        inliers: ``(N,)`` which pairs the fit kept (all of them without RANSAC).
        rms_m: Root-mean-square distance on the ground between the inlier map points and their mapped pixels.
        pixel_sigma_px: Assumed one-sigma error of a box's bottom-centre in pixels, for ``accuracy_m``.
        ransac_threshold_m: The RANSAC threshold the fit used, or None for least squares over all pairs.
    """

    image_points: Array
    map_points: Array
    frame: LocalFrame
    homography: Array
    inliers: npt.NDArray[np.bool_]
    rms_m: float
    pixel_sigma_px: float = 2.0
    ransac_threshold_m: float | None = None

    @classmethod
    def from_pairs(
        cls,
        image_points: Sequence[Sequence[float]] | Array,
        map_points: Sequence[Sequence[float]] | Array,
        *,
        ransac_threshold_m: float | None = None,
        pixel_sigma_px: float = 2.0,
    ) -> GroundCalibration:
        """Fit the ground-plane homography from image↔map point pairs.

        Args:
            image_points: Pixel ``(x, y)`` of each point, at least four, no three of four on one line.
            map_points: ``(lat, lon)`` degrees of the same points, in the same order.
            ransac_threshold_m: When given, fit with RANSAC and drop pairs further than this many metres from
                the fit (for more than four pairs of mixed quality); otherwise a least-squares fit over all pairs.
            pixel_sigma_px: One-sigma pixel error of a box's bottom-centre, used for ``accuracy_m``.

        Raises:
            CalibrationError: Fewer than four pairs, mismatched counts, NaN or out-of-range values, duplicate or
                collinear points, or pairs that no plane can explain (some points beyond the horizon).
        """
        if not pixel_sigma_px >= 0:
            raise ValueError(f"pixel_sigma_px must be >= 0, got {pixel_sigma_px}")
        if ransac_threshold_m is not None and not ransac_threshold_m > 0:
            raise CalibrationError(f"must be positive, got {ransac_threshold_m}", "ransac_threshold_m")
        image = _points(image_points, "image_points")
        geo = _points(map_points, "map_points")
        if len(image) != len(geo):
            raise CalibrationError(f"{len(image)} image points but {len(geo)} map points", "map_points")
        if len(image) < MIN_PAIRS:
            raise CalibrationError(f"needs at least {MIN_PAIRS} point pairs, got {len(image)}", "image_points")
        _check_latlon(geo)
        frame = LocalFrame(float(geo[:, 0].mean()), float(geo[:, 1].mean()))
        metres = frame.to_local_array(geo)
        _check_spread(image, "image_points", _MIN_DISTINCT_PX)
        _check_spread(metres, "map_points", _MIN_DISTINCT_M)
        if ransac_threshold_m is None:
            raw, _ = cv2.findHomography(image, metres, 0)  # the mask is not filled in without RANSAC
            inliers = np.ones(len(image), bool)
        else:
            raw, mask = cv2.findHomography(image, metres, cv2.RANSAC, float(ransac_threshold_m))
            inliers = mask.ravel().astype(bool) if mask is not None else np.zeros(len(image), bool)
        if raw is None or not np.isfinite(raw).all():
            raise CalibrationError("the point pairs do not define a ground plane (degenerate layout)")
        homography: Array = np.asarray(raw, np.float64)
        if inliers.sum() < MIN_PAIRS:
            raise CalibrationError(f"only {int(inliers.sum())} pairs agree with the fit; need {MIN_PAIRS}")
        _check_one_side(homography, image[inliers], metres[inliers])
        mapped = _apply(homography, image)
        rms = float(np.sqrt(np.mean(np.sum((mapped[inliers] - metres[inliers]) ** 2, axis=1))))
        return cls(image, geo, frame, homography, inliers, rms, pixel_sigma_px, ransac_threshold_m)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, pixel_sigma_px: float = 2.0) -> GroundCalibration:
        """Rebuild from the stored form ``{"image_points": [[x, y], ...], "map_points": [[lat, lon], ...]}``.

        An optional ``"ransac_threshold_m"`` key is honoured; other keys are ignored.

        Raises:
            CalibrationError: A field is missing or malformed, or the pairs are unusable (see ``from_pairs``).
        """
        if not isinstance(data, Mapping):
            raise CalibrationError(f"expected an object with image_points and map_points, got {type(data).__name__}")
        for key in ("image_points", "map_points"):
            if key not in data:
                raise CalibrationError("missing", key)
        threshold = data.get("ransac_threshold_m")
        if threshold is not None and not isinstance(threshold, int | float):
            raise CalibrationError(f"must be a number, got {threshold!r}", "ransac_threshold_m")
        return cls.from_pairs(
            data["image_points"], data["map_points"], ransac_threshold_m=threshold, pixel_sigma_px=pixel_sigma_px
        )

    def to_dict(self) -> dict[str, Any]:
        """The stored form: the point pairs (``map_points`` as ``[lat, lon]``), JSON-ready.

        ``ransac_threshold_m`` is added only when the fit used RANSAC, so ``from_dict`` refits the same way.
        """
        stored: dict[str, Any] = {
            "image_points": [[float(x), float(y)] for x, y in self.image_points],
            "map_points": [[float(lat), float(lon)] for lat, lon in self.map_points],
        }
        if self.ransac_threshold_m is not None:
            stored["ransac_threshold_m"] = self.ransac_threshold_m
        return stored

    def pixel_to_local(self, x: float, y: float) -> tuple[float, float] | None:
        """Local ``(east, north)`` metres of a ground pixel, or None when the pixel is at or above the horizon."""
        w = float(self.homography[2] @ np.array([x, y, 1.0]))
        if w * self._side <= 1e-12:
            return None
        east, north = _apply(self.homography, np.array([[x, y]]))[0]
        return float(east), float(north)

    def footprint_m(self, x: float, y: float) -> float:
        """How far one pixel at ``(x, y)`` moves on the ground, in metres (the larger of the two image axes)."""
        jacobian = _jacobian(self.homography, x, y)
        return float(np.linalg.norm(jacobian, 2))  # largest singular value: the worst pixel direction

    def locate_pixel(self, x: float, y: float) -> GeoPoint | None:
        """Latitude/longitude of a ground pixel, with ``accuracy_m``; None at or above the horizon.

        ``accuracy_m`` is ``sqrt(rms_m² + (pixel_sigma_px · footprint)²)``: the fit's own error plus what a few
        pixels of box error mean on the ground there, which grows with distance from the camera.
        """
        local = self.pixel_to_local(x, y)
        if local is None:
            return None
        lat, lon = self.frame.to_geo(*local)
        if not (-90.0 <= lat <= 90.0):
            return None  # so near the horizon that it is off the planet
        accuracy = math.hypot(self.rms_m, self.pixel_sigma_px * self.footprint_m(x, y))
        return GeoPoint(lat, lon, accuracy_m=accuracy)

    def locate(self, box: Sequence[float] | Array) -> GeoPoint | None:
        """Where a boxed object stands: the bottom-centre of ``box`` ``(x1, y1, x2, y2)`` on the map.

        Returns:
            The position with ``accuracy_m``, or None when the box's bottom edge is at or above the ground plane's
            horizon (it cannot be standing on the calibrated ground).
        """
        x1, _, x2, y2 = (float(v) for v in np.asarray(box, np.float64).reshape(4))
        return self.locate_pixel((x1 + x2) / 2.0, y2)

    @property
    def _side(self) -> float:
        """Sign of the homography's ``w`` on the calibrated (visible ground) side of the horizon."""
        centre = self.image_points[self.inliers].mean(axis=0)
        return float(np.sign(self.homography[2] @ np.array([*centre, 1.0])))


def _points(values: Any, field: str) -> Array:
    try:
        points = np.asarray(values, np.float64)
    except (TypeError, ValueError) as error:
        raise CalibrationError(f"must be a list of [a, b] number pairs ({error})", field) from None
    if points.size == 0:
        return points.reshape(0, 2)
    if points.ndim != 2 or points.shape[1] != 2:
        raise CalibrationError(f"must be a list of [a, b] number pairs, got shape {points.shape}", field)
    bad = np.flatnonzero(~np.isfinite(points).all(axis=1))
    if bad.size:
        raise CalibrationError(f"not a finite number: {points[bad[0]].tolist()}", f"{field}[{bad[0]}]")
    return points


def _check_latlon(geo: Array) -> None:
    for index, (lat, lon) in enumerate(geo):
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            raise CalibrationError(f"({lat}, {lon}) is not a [lat, lon] position", f"map_points[{index}]")


def _check_spread(points: Array, field: str, min_distinct: float) -> None:
    """Duplicates, and layouts no plane can be fitted through: a homography needs four points, no three in line."""
    for i in range(len(points)):
        close = np.flatnonzero(np.linalg.norm(points[i + 1 :] - points[i], axis=1) < min_distinct)
        if close.size:
            raise CalibrationError(f"points {i} and {i + 1 + int(close[0])} are the same point", field)
    if _collinear(points):
        raise CalibrationError("all points lie on one line; spread them over the ground", field)
    for skip in range(len(points)):
        if _collinear(np.delete(points, skip, axis=0)):
            others = "three of the four points" if len(points) == MIN_PAIRS else "all points but one"
            raise CalibrationError(f"{others} ({_all_but(skip, len(points))}) lie on one line", field)


def _collinear(points: Array) -> bool:
    """Whether the points lie (nearly) on one line: their spread across is tiny against their spread along."""
    spread = np.linalg.svd(points - points.mean(axis=0), compute_uv=False)
    return bool(spread[0] <= 0 or spread[1] / spread[0] < _COLLINEAR)


def _all_but(skip: int, count: int) -> str:
    return ", ".join(str(i) for i in range(count) if i != skip)


def _check_one_side(homography: Array, image: Array, metres: Array) -> None:
    """Every calibration pixel must map with the same sign of ``w`` (all on the ground side of the horizon)."""
    w = np.c_[image, np.ones(len(image))] @ homography[2]
    if not (np.all(w > 0) or np.all(w < 0)):
        raise CalibrationError(
            "the pairs contradict each other: no single ground plane keeps them all in view"
            f"{_suspect(image, metres)}; check the pairs, or fit with ransac_threshold_m to drop wrong ones",
            "map_points",
        )
    if np.linalg.cond(homography) > 1e12:
        raise CalibrationError("the point pairs do not define a ground plane (degenerate layout)")


def _suspect(image: Array, metres: Array) -> str:
    """``"; pair K disagrees most …"``: the pair furthest from the fit through all the others (needs 5+ pairs)."""
    if len(image) <= MIN_PAIRS:
        return ""
    misses = []
    for index in range(len(image)):
        others = np.arange(len(image)) != index
        raw, _ = cv2.findHomography(image[others], metres[others], 0)
        if raw is None:
            misses.append(0.0)
            continue
        misses.append(
            float(np.linalg.norm(_apply(np.asarray(raw, np.float64), image[index : index + 1]) - metres[index]))
        )
    worst = int(np.argmax(misses))
    return f"; pair {worst} disagrees most with the others ({misses[worst]:.1f} m off their fit)"


def _apply(homography: Array, pixels: Array) -> Array:
    """``(N, 2)`` pixels through ``homography`` to ``(N, 2)`` plane coordinates."""
    mapped = np.c_[pixels, np.ones(len(pixels))] @ homography.T
    return mapped[:, :2] / mapped[:, 2:3]


def _jacobian(homography: Array, x: float, y: float) -> Array:
    """``(2, 2)`` derivative of the mapped point with respect to the pixel ``(x, y)``."""
    u, v, w = homography @ np.array([x, y, 1.0])
    h = homography
    return np.array(
        [
            [(h[0, 0] * w - u * h[2, 0]) / w**2, (h[0, 1] * w - u * h[2, 1]) / w**2],
            [(h[1, 0] * w - v * h[2, 0]) / w**2, (h[1, 1] * w - v * h[2, 1]) / w**2],
        ]
    )

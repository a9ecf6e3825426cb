"""Light and weather of one rendering: sun, sky, fog, rain, and the camera's imperfections."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from vision.synth.primitives import Color

WEATHERS = ("sunny", "hazy", "overcast", "dusk", "fog", "rain")


@dataclass(frozen=True)
class Conditions:
    """Everything about a rendering that is not the scene or the camera.

    Attributes:
        weather: One of ``WEATHERS``.
        sun: Unit vector towards the sun (world frame).
        sun_strength: Direct light, 0 (overcast) to 1 (clear noon).
        ambient: Sky light reaching every surface.
        tint: BGR gains applied to the finished image (warm dusk, blue overcast).
        exposure: Overall brightness gain.
        sky_top: Sky colour overhead.
        sky_horizon: Sky colour at the horizon.
        clouds: Cloud cover 0-1.
        fog_density: Fog extinction per metre (0 = clear).
        fog_color: Colour distant things fade to.
        rain: Rain streak density 0-1.
        wet: Darker, shinier ground.
        motion_blur_px: Length of a horizontal motion blur (moving patrol vehicle).
        defocus: Gaussian blur sigma in pixels.
        noise_sigma: Sensor noise standard deviation (0-255 units).
        jpeg_quality: Quality the image is saved with.
        cloud_seed: Seed of the cloud pattern.
    """

    weather: str = "sunny"
    sun: tuple[float, float, float] = (0.3, 0.5, 0.81)
    sun_strength: float = 0.8
    ambient: float = 0.55
    tint: tuple[float, float, float] = (1.0, 1.0, 1.0)
    exposure: float = 1.0
    sky_top: Color = (200, 150, 90)
    sky_horizon: Color = (230, 215, 200)
    clouds: float = 0.2
    fog_density: float = 0.002
    fog_color: Color = (215, 210, 205)
    rain: float = 0.0
    wet: bool = False
    motion_blur_px: float = 0.0
    defocus: float = 0.0
    noise_sigma: float = 2.0
    jpeg_quality: int = 90
    cloud_seed: int = 0

    def with_light_change(self, rng: np.random.Generator) -> Conditions:
        """The same weather kind at another hour: sun moved, brightness and tint changed (for image pairs)."""
        other = sample_conditions(rng)
        return replace(other, motion_blur_px=self.motion_blur_px, defocus=self.defocus, jpeg_quality=self.jpeg_quality)


def _sun(rng: np.random.Generator, elevation_deg: tuple[float, float]) -> tuple[float, float, float]:
    azimuth = rng.uniform(0, 2 * math.pi)
    elevation = math.radians(rng.uniform(*elevation_deg))
    return (
        math.cos(elevation) * math.cos(azimuth),
        math.cos(elevation) * math.sin(azimuth),
        math.sin(elevation),
    )


def sample_conditions(rng: np.random.Generator, weather: str | None = None) -> Conditions:
    """Draw light and weather; ``weather`` forces one of ``WEATHERS``."""
    kind = weather or str(rng.choice(WEATHERS, p=[0.34, 0.16, 0.22, 0.1, 0.08, 0.1]))
    base = _weather(rng, kind)
    return replace(
        base,
        motion_blur_px=float(rng.choice([0.0, 0.0, 0.0, rng.uniform(2, 9)])),
        defocus=float(rng.choice([0.0, 0.0, rng.uniform(0.4, 1.3)])),
        noise_sigma=float(rng.uniform(1.0, 6.0)),
        jpeg_quality=int(rng.integers(40, 96)),
        exposure=float(rng.uniform(0.85, 1.15)),
        cloud_seed=int(rng.integers(0, 2**31)),
    )


def _sunny(rng: np.random.Generator) -> Conditions:
    u = rng.uniform
    return Conditions(
        weather="sunny",
        sun=_sun(rng, (25, 70)),
        sun_strength=float(u(0.6, 0.9)),
        ambient=float(u(0.45, 0.6)),
        tint=(float(u(0.95, 1.0)), 1.0, float(u(1.0, 1.06))),
        sky_top=(float(u(190, 230)), float(u(140, 170)), float(u(70, 110))),
        sky_horizon=(235, 222, 210),
        clouds=float(u(0.0, 0.4)),
        fog_density=float(u(0.001, 0.004)),
    )


def _hazy(rng: np.random.Generator) -> Conditions:
    u = rng.uniform
    return Conditions(
        weather="hazy",
        sun=_sun(rng, (20, 60)),
        sun_strength=float(u(0.3, 0.55)),
        ambient=float(u(0.6, 0.75)),
        tint=(0.95, 1.0, 1.03),
        sky_top=(200, 190, 180),
        sky_horizon=(205, 205, 205),
        clouds=0.3,
        fog_density=float(u(0.008, 0.02)),
        fog_color=(200, 200, 198),
    )


def _overcast(rng: np.random.Generator) -> Conditions:
    u = rng.uniform
    gray = float(u(170, 215))
    return Conditions(
        weather="overcast",
        sun=_sun(rng, (30, 70)),
        sun_strength=float(u(0.0, 0.12)),
        ambient=float(u(0.85, 1.0)),
        tint=(1.03, 1.0, 0.97),
        sky_top=(gray, gray, gray - 5),
        sky_horizon=(gray + 15, gray + 15, gray + 12),
        clouds=0.9,
        fog_density=float(u(0.003, 0.008)),
        fog_color=(gray, gray, gray),
    )


def _dusk(rng: np.random.Generator) -> Conditions:
    u = rng.uniform
    return Conditions(
        weather="dusk",
        sun=_sun(rng, (3, 15)),
        sun_strength=float(u(0.3, 0.6)),
        ambient=float(u(0.35, 0.5)),
        tint=(0.85, 0.95, 1.12),
        sky_top=(150, 110, 90),
        sky_horizon=(140, 170, 220),
        clouds=0.4,
        fog_density=0.004,
        fog_color=(150, 160, 185),
    )


def _fog(rng: np.random.Generator) -> Conditions:
    return Conditions(
        weather="fog",
        sun=_sun(rng, (20, 60)),
        sun_strength=0.05,
        ambient=0.9,
        sky_top=(205, 205, 200),
        sky_horizon=(215, 215, 212),
        clouds=1.0,
        fog_density=float(rng.uniform(0.02, 0.05)),
        fog_color=(212, 212, 210),
    )


def _rain(rng: np.random.Generator) -> Conditions:
    u = rng.uniform
    gray = float(u(140, 185))
    return Conditions(
        weather="rain",
        sun=_sun(rng, (30, 70)),
        sun_strength=0.0,
        ambient=float(u(0.7, 0.85)),
        tint=(1.04, 1.0, 0.96),
        sky_top=(gray, gray, gray),
        sky_horizon=(gray + 15, gray + 15, gray + 15),
        clouds=1.0,
        fog_density=float(u(0.008, 0.02)),
        fog_color=(gray + 10, gray + 10, gray + 10),
        rain=float(u(0.3, 1.0)),
        wet=True,
    )


_WEATHER_MAKERS = {"sunny": _sunny, "hazy": _hazy, "overcast": _overcast, "dusk": _dusk, "fog": _fog, "rain": _rain}


def _weather(rng: np.random.Generator, kind: str) -> Conditions:
    if kind not in _WEATHER_MAKERS:
        raise ValueError(f"weather must be one of {', '.join(WEATHERS)}, got {kind!r}")
    return _WEATHER_MAKERS[kind](rng)

"""Sky gradient with clouds, and the per-pixel fog of the ground plane."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from vision.synth.camera import Camera
from vision.synth.conditions import Conditions
from vision.synth.primitives import Image
from vision.synth.textures import noise

_LOW = 8  # sky and fog are smooth: compute them at 1/8 resolution
_CLOUD_TILE = 128


def _low_res_rays(camera: Camera) -> npt.NDArray[np.float64]:
    w, h = camera.width // _LOW + 2, camera.height // _LOW + 2
    xs, ys = np.meshgrid(np.arange(w) * _LOW, np.arange(h) * _LOW)
    rays = camera.pixel_rays(xs.astype(np.float64), ys.astype(np.float64))
    return rays / np.linalg.norm(rays, axis=-1, keepdims=True)


def _upscale(low: npt.NDArray[np.float32], camera: Camera) -> npt.NDArray[np.float32]:
    big = cv2.resize(low, (low.shape[1] * _LOW, low.shape[0] * _LOW), interpolation=cv2.INTER_LINEAR)
    return np.asarray(big[: camera.height, : camera.width], np.float32)


def draw_sky(image: Image, camera: Camera, conditions: Conditions) -> None:
    """Fill the whole image with sky (everything else is painted over it)."""
    rays = _low_res_rays(camera)
    elevation = np.arcsin(np.clip(rays[..., 2], -1, 1)).astype(np.float32)
    t = np.clip(elevation / 0.7, 0, 1) ** 0.6
    top, horizon = np.array(conditions.sky_top, np.float32), np.array(conditions.sky_horizon, np.float32)
    sky = horizon[None, None, :] * (1 - t[..., None]) + top[None, None, :] * t[..., None]
    if conditions.clouds > 0:
        tile = noise(np.random.default_rng(conditions.cloud_seed), _CLOUD_TILE, _CLOUD_TILE, 4, 4)
        up = np.maximum(rays[..., 2], 0.02)
        map_x = (rays[..., 0] / up * 6.0 % _CLOUD_TILE).astype(np.float32)
        map_y = (rays[..., 1] / up * 6.0 % _CLOUD_TILE).astype(np.float32)
        cloud = cv2.remap(tile, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
        cover = np.clip((cloud - (1.0 - conditions.clouds)) * 3.0, 0, 1) * np.clip(elevation * 8, 0, 1)
        white = np.array(conditions.sky_horizon, np.float32) * 1.05
        sky = sky * (1 - cover[..., None]) + white[None, None, :] * cover[..., None]
    low = np.clip(sky, 0, 255).astype(np.uint8)
    big = cv2.resize(low, (low.shape[1] * _LOW, low.shape[0] * _LOW), interpolation=cv2.INTER_LINEAR)
    image[...] = big[: camera.height, : camera.width]


def ground_fog(camera: Camera, density: float) -> npt.NDArray[np.float32]:
    """Fog fraction ``(H, W)`` of the ground plane seen at each pixel (1 at and above the horizon)."""
    rays = _low_res_rays(camera)
    down = -rays[..., 2]
    distance = np.where(down > 1e-4, camera.position[2] / np.maximum(down, 1e-4), 1e6)
    fog = (1.0 - np.exp(-density * distance)).astype(np.float32)
    return _upscale(fog, camera)

"""Paints a scene seen by a camera: painter's algorithm over layers, an id buffer, and the labels from it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from vision.detections import Detections
from vision.synth.camera import NEAR_M, Camera, clip_near
from vision.synth.conditions import Conditions
from vision.synth.painter import Painter
from vision.synth.primitives import LAYER_GROUND, Array, Ball, Image, Poly, Primitive, Rod, SceneObject, Sprite
from vision.synth.sky import draw_sky, ground_fog


@dataclass(frozen=True, eq=False)
class Rendered:
    """A rendered view and its ground truth.

    Attributes:
        image: ``(H, W, 3)`` BGR uint8, before camera effects (noise, blur, JPEG).
        ids: ``(H, W)`` uint16: ``1 +`` the index (in the rendered object sequence) of the object seen at each
            pixel; 0 for sky.
        truth: The labelled objects that are visible enough: boxes, class ids, and ``track_id`` = object id.
        visible_fraction: Object id → fraction of its in-image silhouette left unoccluded (labelled objects).
    """

    image: Image
    ids: npt.NDArray[np.uint16]
    truth: Detections
    visible_fraction: dict[int, float]


@dataclass(frozen=True)
class LabelRules:
    """When a labelled object gets a box.

    Attributes:
        min_box_px: Smallest box side kept, pixels.
        min_visible: Smallest unoccluded fraction of the object's in-image silhouette.
        min_in_image: Smallest fraction of the object's projected box inside the image.
        big_visible_px: An object showing at least this many pixels, in a visible box of at least
            ``big_side_px`` on each side, is labelled even when ``min_visible`` or ``min_in_image`` would drop it:
            a sign running out of the frame, or a shed mostly behind a tree, still shows plainly what it is.
        big_side_px: See ``big_visible_px``.
        max_fog: Largest fog fraction at the object's distance: beyond it the object has faded into the fog.
    """

    min_box_px: float = 8.0
    min_visible: float = 0.3
    min_in_image: float = 0.25
    big_visible_px: float = 1600.0
    big_side_px: float = 24.0
    max_fog: float = 0.85


class _Context:
    def __init__(self, camera: Camera, conditions: Conditions, painter: Painter) -> None:
        self.camera, self.conditions, self.painter = camera, conditions, painter
        self.sun = np.asarray(conditions.sun, np.float64)
        self._sun = (float(self.sun[0]), float(self.sun[1]), float(self.sun[2]))
        self._ground_fog: npt.NDArray[np.float32] | None = None

    def fog(self, depth: float) -> float:
        return 1.0 - math.exp(-self.conditions.fog_density * max(depth, 0.0))

    def shade(self, normal: Array, lit: bool) -> float:
        c = self.conditions
        if not lit:
            return 1.0
        n0, n1, n2 = normal.tolist()
        s0, s1, s2 = self._sun
        return c.ambient * (0.8 + 0.2 * n2) + c.sun_strength * max(0.0, n0 * s0 + n1 * s1 + n2 * s2)

    def ground_fog(self) -> npt.NDArray[np.float32]:
        if self._ground_fog is None:
            self._ground_fog = ground_fog(self.camera, self.conditions.fog_density)
        return self._ground_fog


def render(
    objects: Sequence[SceneObject], camera: Camera, conditions: Conditions, rules: LabelRules | None = None
) -> Rendered:
    """Render ``objects`` from ``camera`` under ``conditions`` and derive the labels.

    Args:
        objects: The scene's objects (see ``vision.synth.scene.Scene.objects``).
        camera: Where the picture is taken from.
        conditions: Light and weather.
        rules: Visibility rules for labels (defaults: 8 px, 30 % visible, 25 % inside the image).
    """
    rules = rules or LabelRules()
    painter = Painter(camera.width, camera.height, conditions.fog_color)
    draw_sky(painter.image, camera, conditions)
    ctx = _Context(camera, conditions, painter)
    forward = camera.forward
    keyed = []
    visible = _in_frustum(camera, objects)
    for index, obj in enumerate(objects):
        if not visible[index]:
            continue
        depth = float((obj.anchor - camera.position) @ forward) - obj.depth_bias
        keyed.append((obj.layer, -depth, index))
    keyed.sort()
    silhouettes: dict[int, tuple[int, tuple[int, int, int, int]]] = {}
    shadows_done = False
    for layer, _, index in keyed:
        if layer > LAYER_GROUND and not shadows_done:
            _draw_shadows(ctx, objects)
            shadows_done = True
        obj = objects[index]
        painter.begin(index)
        for part in _back_to_front(obj.parts, camera):
            _draw_part(ctx, part)
        bbox = painter.drawn_bbox()
        if obj.class_id is not None and bbox is not None:
            x0, y0, x1, y1 = bbox
            silhouettes[index] = (int(np.count_nonzero(painter.ids[y0:y1, x0:x1] == index + 1)), bbox)
    truth, fractions = _labels(objects, painter.ids, silhouettes, ctx, rules)
    return Rendered(painter.image, painter.ids, truth, fractions)


_MIN_RADIUS_PX = 1.5  # objects whose bounding sphere looks smaller than this are skipped


def _in_frustum(camera: Camera, objects: Sequence[SceneObject]) -> npt.NDArray[np.bool_]:
    """Which objects' bounding spheres touch the view pyramid and look bigger than a speck."""
    if not objects:
        return np.zeros(0, bool)
    bounds = [obj.bounds() for obj in objects]
    centers = camera.to_camera(np.stack([c for c, _ in bounds]))
    radius = np.array([r for _, r in bounds])
    x, y, z = centers[:, 0], centers[:, 1], centers[:, 2]
    f = camera.focal_px
    half_w, half_h = camera.width / 2.0, camera.height / 2.0
    norm_w, norm_h = math.hypot(f, half_w), math.hypot(f, half_h)
    tiny = (z > radius) & (f * radius < _MIN_RADIUS_PX * np.maximum(z, 1e-6))  # far specks: not worth drawing
    return (
        (z >= NEAR_M - radius)
        & ~tiny
        & ((f * x - half_w * z) / norm_w <= radius)
        & ((-f * x - half_w * z) / norm_w <= radius)
        & ((f * y - half_h * z) / norm_h <= radius)
        & ((-f * y - half_h * z) / norm_h <= radius)
    )


def _back_to_front(parts: Sequence[Primitive], camera: Camera) -> Sequence[Primitive]:
    if len(parts) < 2:
        return parts
    forward, origin = camera.forward, camera.position

    def depth(part: Primitive) -> float:
        if isinstance(part, Poly):
            return float((part.points.mean(axis=0) - origin) @ forward)
        if isinstance(part, Rod):
            return float(((part.start + part.end) / 2 - origin) @ forward)
        if isinstance(part, Ball):
            return float((part.center - origin) @ forward)
        return float((part.base - origin) @ forward)

    return sorted(parts, key=depth, reverse=True)


def _draw_part(ctx: _Context, part: Primitive) -> None:
    if isinstance(part, Poly):
        _draw_poly(ctx, part)
    elif isinstance(part, Ball):
        _draw_ball(ctx, part)
    elif isinstance(part, Rod):
        _draw_rod(ctx, part)
    else:
        _draw_sprite(ctx, part)


def _draw_poly(ctx: _Context, poly: Poly) -> None:
    camera = ctx.camera
    normal = poly.normal
    if float(normal @ (camera.position - poly.points[0])) < 0:
        if poly.cull:
            return
        normal = -normal
    cam = (poly.points - camera.position) @ camera.rotation.T
    depth = cam[:, 2]
    if depth.min() < NEAR_M:
        cam = clip_near(cam)
        if len(cam) < 3:
            return
        depth = cam[:, 2]
    px = cam[:, :2] * (camera.focal_px / depth)[:, None]
    px[:, 0] += camera.width / 2.0
    px[:, 1] += camera.height / 2.0
    x0, y0 = px.min(axis=0).tolist()
    x1, y1 = px.max(axis=0).tolist()
    if x1 < 0 or y1 < 0 or x0 >= camera.width or y0 >= camera.height:
        return
    shade = ctx.shade(normal, poly.lit)
    fog = ctx.fog(float(depth.sum()) / len(depth))
    if poly.texture is None:
        ctx.painter.set_tone(shade, fog)
        ctx.painter.fill(px, poly.color, (x0, y0, x1, y1))
    else:
        _draw_textured(ctx, poly, px, np.array([x0, y0]), np.array([x1, y1]), shade, fog)


def _draw_textured(ctx: _Context, poly: Poly, px: Array, lo: Array, hi: Array, shade: float, fog: float) -> None:
    camera, painter = ctx.camera, ctx.painter
    x0, y0 = max(int(lo[0]), 0), max(int(lo[1]), 0)
    x1, y1 = min(math.ceil(hi[0]) + 1, camera.width), min(math.ceil(hi[1]) + 1, camera.height)
    w, h = x1 - x0, y1 - y0
    if w <= 0 or h <= 0 or poly.texture is None or poly.tex_axes is None:
        return
    origin, axis_s, axis_t = poly.tex_axes
    full_h, full_w = poly.texture.shape[:2]
    ratio = 1.0
    if not poly.tile:  # how many texture pixels fall on one image pixel
        xs, ys = px[:, 0], px[:, 1]
        area = 0.5 * abs(float(xs @ np.roll(ys, -1) - ys @ np.roll(xs, -1)))
        ratio = math.sqrt(max(area, 1.0) / (full_w * full_h))
    texture = poly.texture if isinstance(poly.texture, np.ndarray) else poly.texture.image(ratio * 1.25)
    tex_h, tex_w = texture.shape[:2]
    if (tex_w, tex_h) != (full_w, full_h):
        axis_s, axis_t = axis_s * (full_w / tex_w), axis_t * (full_h / tex_h)
        ratio *= full_w / tex_w
    if not poly.tile and ratio < 0.6:  # shrink big textures seen small, so that they do not alias
        new_w, new_h = max(int(tex_w * ratio * 1.5), 2), max(int(tex_h * ratio * 1.5), 2)
        texture = np.asarray(cv2.resize(texture, (new_w, new_h), interpolation=cv2.INTER_AREA), np.uint8)
        axis_s, axis_t = axis_s * (tex_w / new_w), axis_t * (tex_h / new_h)
    homography = camera.plane_homography(origin, axis_s, axis_t)
    homography = np.array([[1.0, 0, -x0], [0, 1.0, -y0], [0, 0, 1.0]]) @ homography
    border = cv2.BORDER_WRAP if poly.tile else cv2.BORDER_REPLICATE
    fog_color = painter.fog_color
    ground_fog = poly.ground and ctx.conditions.fog_density > 0
    alpha = texture.shape[2] == 4
    # Shade and fog are the same for every pixel of a non-ground polygon: apply them on the smaller image.
    tone_first = not ground_fog and not alpha and tex_w * tex_h < w * h
    gain = np.hstack([np.eye(3) * (shade * (1.0 - fog)), (fog_color * fog)[:, None]])
    if tone_first:
        texture = np.asarray(cv2.transform(texture, gain), np.uint8)
    patch = cv2.warpPerspective(texture, homography, (w, h), flags=cv2.INTER_LINEAR, borderMode=border)
    mask = np.zeros((h, w), np.uint8)
    pts = np.round((px - [x0, y0]) * 16).astype(np.int32)
    big = w * h > 40000  # large surfaces: hard edges are good enough and much cheaper to composite
    cv2.fillPoly(mask, [pts], 255, cv2.LINE_8 if big else cv2.LINE_AA, 4)
    if alpha:  # texture with alpha: cut-outs (skyline)
        mask = (mask.astype(np.uint16) * patch[..., 3] // 255).astype(np.uint8)
        patch = np.ascontiguousarray(patch[..., :3])
    if ground_fog:
        toned = cv2.transform(patch, np.hstack([np.eye(3) * shade, np.zeros((3, 1))]))
        fog_map = ctx.ground_fog()[y0:y1, x0:x1]
        fog_patch = np.empty_like(toned)
        fog_patch[:] = np.clip(fog_color, 0, 255).astype(np.uint8)
        toned = cv2.blendLinear(toned, fog_patch, 1.0 - fog_map, np.ascontiguousarray(fog_map))
    else:
        toned = patch if tone_first else cv2.transform(patch, gain)
    painter.blit(x0, y0, np.asarray(toned, np.uint8), mask)


def _draw_ball(ctx: _Context, ball: Ball) -> None:
    camera = ctx.camera
    center = camera.to_camera(ball.center[None])[0]
    if center[2] < ball.radius + NEAR_M:
        return
    px = camera.project_camera(center[None])[0]
    radius = camera.focal_px * ball.radius / center[2]
    ctx.painter.set_tone(ctx.shade(np.array([0.0, 0.0, 1.0]), True) * 0.8, ctx.fog(float(center[2])))
    ctx.painter.circle(px[0], px[1], radius, ball.color)
    if radius > 2.5:
        ctx.painter.set_tone(ctx.painter.shade * 1.2, ctx.painter.fog)
        ctx.painter.circle(px[0] - radius * 0.2, px[1] - radius * 0.25, radius * 0.6, ball.color)


def _draw_rod(ctx: _Context, rod: Rod) -> None:
    camera = ctx.camera
    ends = camera.to_camera(np.stack([rod.start, rod.end]))
    za, zb = ends[:, 2]
    if za < NEAR_M and zb < NEAR_M:
        return
    if za < NEAR_M or zb < NEAR_M:
        t = (NEAR_M - za) / (zb - za)
        cut = ends[0] + t * (ends[1] - ends[0])
        ends = np.stack([cut, ends[1]]) if za < NEAR_M else np.stack([ends[0], cut])
    px = camera.project_camera(ends)
    depth = float(ends[:, 2].mean())
    thickness = max(camera.focal_px * 2 * rod.radius / depth, 1.0)
    side = np.array([ctx.sun[0], ctx.sun[1], 0.0])
    ctx.painter.set_tone(ctx.shade(side / (np.linalg.norm(side) + 1e-9), True) * 0.9, ctx.fog(depth))
    ctx.painter.line(px[0, 0], px[0, 1], px[1, 0], px[1, 1], thickness, rod.color)


def _draw_sprite(ctx: _Context, sprite: Sprite) -> None:
    camera = ctx.camera
    base = camera.to_camera(sprite.base[None])[0]
    if base[2] < 0.5:
        return
    px = camera.project_camera(base[None])[0]
    scale = camera.focal_px / base[2]
    half_w, tall = sprite.width_m * scale, sprite.height_m * scale
    if px[0] + half_w < 0 or px[0] - half_w >= camera.width or px[1] < 0 or px[1] - tall >= camera.height:
        return
    to_camera = camera.position - sprite.base
    to_camera[2] = 0.0
    normal = to_camera / (np.linalg.norm(to_camera) + 1e-9)
    ctx.painter.set_tone(ctx.shade(normal, True), ctx.fog(float(base[2])))
    sprite.draw(ctx.painter, float(px[0]), float(px[1]), float(scale))


def _draw_shadows(ctx: _Context, objects: Sequence[SceneObject]) -> None:
    conditions, camera = ctx.conditions, ctx.camera
    sun = ctx.sun
    if conditions.sun_strength < 0.05 or sun[2] < 0.05:
        return
    mask = np.zeros((camera.height, camera.width), np.uint8)
    for obj in objects:
        if not obj.shadow or obj.layer <= LAYER_GROUND:
            continue
        pts = obj.points()
        if len(pts) < 2 or pts[:, 2].max() <= 0.02:
            continue
        ground = pts[:, :2] - sun[None, :2] / sun[2] * np.maximum(pts[:, 2:3], 0.0)
        hull = cv2.convexHull(ground.astype(np.float32)).reshape(-1, 2).astype(np.float64)
        world = np.column_stack([hull, np.full(len(hull), 0.005)])
        clipped = clip_near(camera.to_camera(world))
        if len(clipped) < 3:
            continue
        poly = np.round(camera.project_camera(clipped) * 16).astype(np.int32)
        cv2.fillPoly(mask, [poly], 255, cv2.LINE_8, 4)
    x, y, w, h = cv2.boundingRect(mask)
    if w == 0 or h == 0:
        return
    lit = conditions.ambient + conditions.sun_strength * sun[2]
    factor = conditions.ambient / lit
    sub = cv2.GaussianBlur(mask[y : y + h, x : x + w], (5, 5), 0)
    region = ctx.painter.image[y : y + h, x : x + w]
    weight = 1.0 - (1.0 - factor) * sub.astype(np.float32)[..., None] / 255.0
    region[...] = np.clip(region.astype(np.float32) * weight, 0, 255).astype(np.uint8)


def _labels(
    objects: Sequence[SceneObject],
    ids: npt.NDArray[np.uint16],
    silhouettes: dict[int, tuple[int, tuple[int, int, int, int]]],
    ctx: _Context,
    rules: LabelRules,
) -> tuple[Detections, dict[int, float]]:
    camera = ctx.camera
    boxes, classes, tracks = [], [], []
    visible_fraction: dict[int, float] = {}
    for index, (area, (bx0, by0, bx1, by1)) in silhouettes.items():
        obj = objects[index]
        if area == 0 or obj.class_id is None:
            continue
        ys, xs = np.nonzero(ids[by0:by1, bx0:bx1] == index + 1)
        fraction = len(xs) / area
        visible_fraction[obj.object_id] = fraction
        if len(xs) == 0:
            continue
        x0, y0 = float(xs.min() + bx0), float(ys.min() + by0)
        x1, y1 = float(xs.max() + 1 + bx0), float(ys.max() + 1 + by0)
        side = min(x1 - x0, y1 - y0)
        if side < rules.min_box_px:
            continue
        big = len(xs) >= rules.big_visible_px and side >= rules.big_side_px
        if not big and (fraction < rules.min_visible or _in_image_fraction(obj, camera) < rules.min_in_image):
            continue
        if ctx.fog(float(camera.to_camera(obj.anchor[None])[0, 2])) > rules.max_fog:
            continue
        boxes.append((x0, y0, x1, y1))
        classes.append(obj.class_id)
        tracks.append(obj.object_id)
    if not boxes:
        return Detections.empty().with_tracks([]), visible_fraction
    n = len(boxes)
    truth = Detections(np.array(boxes, np.float32), np.ones(n, np.float32), np.array(classes), np.array(tracks))
    return truth, visible_fraction


def _in_image_fraction(obj: SceneObject, camera: Camera) -> float:
    cam = camera.to_camera(obj.points())
    cam = cam[cam[:, 2] > NEAR_M]
    if len(cam) < 2:
        return 1.0
    px = camera.project_camera(cam)
    x0, y0 = px.min(axis=0)
    x1, y1 = px.max(axis=0)
    full = max((x1 - x0) * (y1 - y0), 1e-6)
    cx0, cy0 = max(x0, 0.0), max(y0, 0.0)
    cx1, cy1 = min(x1, camera.width), min(y1, camera.height)
    inside = max(cx1 - cx0, 0.0) * max(cy1 - cy0, 0.0)
    return float(inside / full)

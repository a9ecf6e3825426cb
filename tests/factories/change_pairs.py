"""A small maker of reference/current test pairs: textured street scenes drawn with numpy and OpenCV.

A scene is a brick wall with windows over a ground of asphalt and kerb. Objects (sheds of corrugated
steel, material piles, boards) are pasted into the reference, the current image, or both. The current
view can be moved (shift, rotation, zoom), re-lit (gain, gamma, colour cast, light ramp, soft shadow)
and walked through by people. Ground-truth boxes are in current-image pixels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]

MARGIN = 80  # world pixels around the reference view, so moved views never see past the world's edge


@dataclass(frozen=True)
class SceneObject:
    """An object pasted into the world: its polygon (world pixels) and how it looks."""

    polygon: npt.NDArray[np.int32]
    style: str  # "shed", "pile" or "board"
    colour: tuple[int, int, int]

    @property
    def box(self) -> tuple[int, int, int, int]:
        x, y, w, h = cv2.boundingRect(self.polygon)
        return x, y, x + w, y + h


@dataclass(frozen=True)
class View:
    """Where the current camera looks, relative to the reference view."""

    shift: tuple[float, float] = (0.0, 0.0)  # fractions of width / height
    rotation: float = 0.0  # degrees
    scale: float = 1.0


@dataclass(frozen=True)
class Light:
    """How the light of the current image differs."""

    gain: float = 1.0
    bias: float = 0.0
    gamma: float = 1.0
    cast: tuple[float, float, float] = (1.0, 1.0, 1.0)  # per-channel B, G, R factors
    ramp: float = 0.0  # light falls off by this share from left to right
    shadow: float = 0.0  # darkening in the middle of a soft elliptic shadow
    hard_shadow: float = 0.0  # darkening inside a sharp-edged cast shadow (a building's, the sun moved)
    haze: float = 0.0  # share of each pixel replaced by the haze's light grey (fog, smog)
    rain: int = 0  # rain streaks
    noise: float = 2.5  # sensor noise sigma of both pictures
    quality: int = 85  # JPEG quality of both pictures


@dataclass
class ScenePair:
    """A generated pair with its truth."""

    reference: Image
    current: Image
    truth: list[tuple[tuple[int, int, int, int], str]] = field(default_factory=list)  # (box, kind)
    people: list[tuple[int, int, int, int]] = field(default_factory=list)  # boxes in current pixels
    ref_to_cur: npt.NDArray[np.float64] = field(default_factory=lambda: np.eye(3))


def make_world(rng: np.random.Generator, width: int, height: int) -> Image:
    """Draw the static scene, ``MARGIN`` wider on every side than the view."""
    world_w, world_h = width + 2 * MARGIN, height + 2 * MARGIN
    horizon = MARGIN + int(height * rng.uniform(0.5, 0.62))
    world = np.zeros((world_h, world_w, 3), np.float32)
    wall_colour = rng.uniform([120, 130, 150], [170, 180, 210])
    brick_h, brick_w = int(rng.integers(10, 16)), int(rng.integers(26, 40))
    for row, top in enumerate(range(0, horizon, brick_h)):
        offset = (row % 2) * brick_w // 2
        for left in range(-offset, world_w, brick_w):
            tone = wall_colour * rng.uniform(0.85, 1.12)
            world[top : top + brick_h - 2, max(0, left) : left + brick_w - 2] = tone
            world[top + brick_h - 2 : top + brick_h, max(0, left) : left + brick_w] = wall_colour * 0.6
    for _ in range(int(rng.integers(3, 6))):  # windows
        x = int(rng.integers(MARGIN, world_w - MARGIN - 80))
        y = int(rng.integers(MARGIN // 2, max(MARGIN, horizon - 120)))
        w, h = int(rng.integers(40, 90)), int(rng.integers(50, 100))
        cv2.rectangle(world, (x - 4, y - 4), (x + w + 4, y + h + 4), (230, 230, 225), -1)
        cv2.rectangle(world, (x, y), (x + w, y + h), tuple(rng.uniform(30, 70, 3).tolist()), -1)
        cv2.line(world, (x + w // 2, y), (x + w // 2, y + h), (230, 230, 225), 3)
    ground = rng.normal(95, 18, (world_h - horizon, world_w, 1)).astype(np.float32)
    ground = cv2.GaussianBlur(ground, (0, 0), 1.2)[..., None] * [1.0, 1.0, 1.02]
    world[horizon:] = ground
    cv2.rectangle(world, (0, horizon), (world_w, horizon + 10), (175, 175, 170), -1)  # kerb
    for x in range(0, world_w, 120):  # lane dashes
        cv2.rectangle(world, (x, world_h - 60), (x + 60, world_h - 50), (220, 225, 230), -1)
    world += rng.normal(0, 4, world.shape).astype(np.float32)
    return np.clip(world, 0, 255).astype(np.uint8)


def random_object(rng: np.random.Generator, width: int, height: int, style: str | None = None) -> SceneObject:
    """An object of a random style somewhere in the reference view (world pixels)."""
    style = style or str(rng.choice(["shed", "pile", "board"]))
    w = int(rng.uniform(0.12, 0.25) * width)
    h = int(rng.uniform(0.15, 0.3) * height)
    x = MARGIN + int(rng.uniform(0.1, 0.9) * width - w / 2)
    y = MARGIN + int(rng.uniform(0.3, 0.75) * height - h / 2)
    if style == "pile":
        centre = np.array([x + w / 2, y + h / 2])
        angles = np.sort(rng.uniform(0, 2 * np.pi, 10))
        radii = rng.uniform(0.7, 1.0, 10)[:, None] * [w / 2, h / 2]
        polygon = centre + radii * np.stack([np.cos(angles), np.sin(angles)], 1)
    else:
        polygon = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float64)
    palette = {
        "shed": [(200, 110, 40), (190, 120, 60), (170, 160, 150)],
        "pile": [(60, 110, 150), (140, 145, 150), (50, 70, 140)],  # sand, gravel, bricks
        "board": [(40, 40, 200), (30, 180, 230), (220, 220, 220)],
    }
    colour = palette[style][int(rng.integers(0, 3))]
    return SceneObject(polygon.astype(np.int32), style, colour)


def paste(world: Image, thing: SceneObject, rng: np.random.Generator) -> None:
    """Draw ``thing`` into ``world`` in place."""
    mask = np.zeros(world.shape[:2], np.uint8)
    cv2.fillPoly(mask, [thing.polygon], 1)
    x1, y1, x2, y2 = thing.box
    colour = np.array(thing.colour, np.float32)
    patch = np.empty((y2 - y1, x2 - x1, 3), np.float32)
    if thing.style == "shed":  # corrugated steel: vertical light/dark stripes
        stripes = 0.8 + 0.25 * (np.sin(np.arange(x2 - x1) * 2 * np.pi / 9) > 0)
        patch[:] = colour * stripes[None, :, None]
    elif thing.style == "pile":
        noise = cv2.GaussianBlur(rng.normal(1.0, 0.45, (y2 - y1, x2 - x1)).astype(np.float32), (0, 0), 1.5)
        patch[:] = colour * noise[..., None]
    else:
        board = np.empty(patch.shape, np.uint8)
        board[:] = colour.astype(np.uint8)
        cv2.putText(board, "AD", (4, max(12, (y2 - y1) // 2)), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (250, 250, 250), 2)
        patch[:] = board
    patch += rng.normal(0, 3, patch.shape).astype(np.float32)
    local = mask[y1:y2, x1:x2].astype(bool)
    world[y1:y2, x1:x2][local] = np.clip(patch[local], 0, 255).astype(np.uint8)


def view_matrix(view: View, width: int, height: int) -> npt.NDArray[np.float64]:
    """3x3 map from current-view pixels to world pixels."""
    centre = np.array([width / 2, height / 2])
    angle = np.deg2rad(view.rotation)
    linear = view.scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    shift = np.array([view.shift[0] * width, view.shift[1] * height])
    matrix = np.eye(3)
    matrix[:2, :2] = linear
    matrix[:2, 2] = centre + MARGIN + shift - linear @ centre
    return matrix


def relight(image: Image, light: Light, rng: np.random.Generator | None = None) -> Image:
    """Apply a change of light (and weather) to an image."""
    height, width = image.shape[:2]
    values = (image.astype(np.float32) / 255.0) ** light.gamma * 255.0
    values = values * light.gain * np.array(light.cast, np.float32) + light.bias
    ramp = 1.0 - light.ramp * np.linspace(0.0, 1.0, width, dtype=np.float32)
    values *= ramp[None, :, None]
    if light.shadow:
        shade = np.zeros((height, width), np.float32)
        cv2.ellipse(shade, (width // 2, height // 2), (width // 4, height // 3), 20, 0, 360, 1.0, -1)
        shade = cv2.GaussianBlur(shade, (0, 0), width / 12)
        values *= (1.0 - light.shadow * shade)[..., None]
    if light.hard_shadow:
        cast = np.zeros((height, width), np.float32)
        corners = np.array([[0, height // 3], [width // 2, height], [0, height]], np.int32)
        cv2.fillPoly(cast, [corners], 1.0)
        values *= (1.0 - light.hard_shadow * cv2.GaussianBlur(cast, (0, 0), 1.0))[..., None]
    if light.haze:
        values = values * (1.0 - light.haze) + 200.0 * light.haze
    if light.rain:
        rng = rng or np.random.default_rng(0)
        streaks = np.zeros((height, width), np.float32)
        for _ in range(light.rain):
            x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
            cv2.line(streaks, (x, y), (x + 3, y + int(rng.integers(8, 25))), 1.0, 1)
        values = values * (1 - 0.3 * streaks[..., None]) + 230 * 0.3 * streaks[..., None]
    return np.clip(values, 0, 255).astype(np.uint8)


def draw_person(image: Image, rng: np.random.Generator) -> tuple[int, int, int, int]:
    """Draw a walking person (body ellipse + head) in place; return their box."""
    height, width = image.shape[:2]
    body_h = int(rng.uniform(0.25, 0.4) * height)
    body_w = body_h // 3
    x = int(rng.uniform(0.05, 0.9) * width)
    y = int(rng.uniform(0.35, 0.55) * height)
    clothes = tuple(int(v) for v in rng.integers(20, 230, 3))
    cv2.ellipse(image, (x, y + body_h // 2), (body_w // 2, body_h // 2 - body_w // 4), 0, 0, 360, clothes, -1)
    cv2.circle(image, (x, y), body_w // 3, (110, 150, 200), -1)
    return (x - body_w // 2, y - body_w // 3, x + body_w // 2, y + body_h)


def make_pair(
    seed: int,
    *,
    width: int = 640,
    height: int = 360,
    new: int = 0,
    gone: int = 0,
    view: View | None = None,
    light: Light | None = None,
    people: int = 0,
    style: str | None = None,
) -> ScenePair:
    """Make one pair.

    Args:
        seed: Random seed; the same arguments give the same pair.
        width: View width in pixels.
        height: View height in pixels.
        new: Objects only in the current image.
        gone: Objects only in the reference.
        view: Current camera pose relative to the reference (default: the same).
        light: Change of light in the current image (default: none).
        people: People walking through the current image.
        style: Style of every object ("shed", "pile" or "board"); default: drawn at random.
    """
    rng = np.random.default_rng(seed)
    view = view or View()
    world = make_world(rng, width, height)
    things = _non_overlapping(rng, width, height, new + gone, style)
    before, after = world.copy(), world.copy()
    for index, thing in enumerate(things):
        paste(after if index < new else before, thing, rng)
    to_world = view_matrix(view, width, height)
    reference = before[MARGIN : MARGIN + height, MARGIN : MARGIN + width].copy()
    current = cv2.warpAffine(after, to_world[:2], (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
    light = light or Light()
    current = relight(current, light, rng)
    to_current = np.linalg.inv(to_world)
    truth = [
        (_map_box(thing.box, to_current, width, height), "new" if i < new else "gone") for i, thing in enumerate(things)
    ]
    boxes = [draw_person(current, rng) for _ in range(people)]
    reference, current = _camera(reference, rng, light), _camera(current, rng, light)
    ref_to_world = np.array([[1.0, 0, MARGIN], [0, 1.0, MARGIN], [0, 0, 1]])
    return ScenePair(reference, current, truth, boxes, to_current @ ref_to_world)


def write_pair(pair: ScenePair, folder: Path, kind: str = "change") -> Path:
    """Write a pair as the evaluator reads it: reference.jpg, current.jpg and truth.json in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(folder / "reference.jpg"), pair.reference)
    cv2.imwrite(str(folder / "current.jpg"), pair.current)
    truth = {
        "kind": kind,
        "regions": [{"box": list(box), "kind": kind_, "class": "shed"} for box, kind_ in pair.truth],
        "transients": [list(box) for box in pair.people],
    }
    (folder / "truth.json").write_text(json.dumps(truth), encoding="utf-8")
    return folder


def _camera(image: Image, rng: np.random.Generator, light: Light) -> Image:
    """Sensor noise and JPEG compression, independent for each picture."""
    noisy = np.clip(image + rng.normal(0, light.noise, image.shape), 0, 255).astype(np.uint8)
    _, encoded = cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, light.quality])
    return cv2.imdecode(encoded, cv2.IMREAD_COLOR)


def _non_overlapping(
    rng: np.random.Generator, width: int, height: int, count: int, style: str | None
) -> list[SceneObject]:
    things: list[SceneObject] = []
    while len(things) < count:
        candidate = random_object(rng, width, height, style)
        if all(_gap(candidate.box, other.box) for other in things):
            things.append(candidate)
    return things


def _gap(a: tuple[int, int, int, int], b: tuple[int, int, int, int], pad: int = 20) -> bool:
    return a[2] + pad < b[0] or b[2] + pad < a[0] or a[3] + pad < b[1] or b[3] + pad < a[1]


def _map_box(
    box: tuple[int, int, int, int], matrix: npt.NDArray[np.float64], width: int, height: int
) -> tuple[int, int, int, int]:
    x1, y1, x2, y2 = box
    corners = np.float64([[x1, y1], [x2, y1], [x2, y2], [x1, y2]]).reshape(-1, 1, 2)
    mapped = cv2.perspectiveTransform(corners, matrix).reshape(-1, 2)
    low, high = mapped.min(axis=0), mapped.max(axis=0)
    return (max(0, int(low[0])), max(0, int(low[1])), min(width, int(high[0])), min(height, int(high[1])))


def random_pair(seed: int) -> tuple[ScenePair, str]:
    """A pair with everything drawn at random: 0-2 new and 0-2 gone objects (none in a quarter of the pairs),
    a view change within the comparer's limits, a change of light and 0-3 people; and its kind."""
    rng = np.random.default_rng([seed, 7])
    negative = rng.random() < 0.25
    new, gone = (0, 0) if negative else (int(rng.integers(0, 3)), int(rng.integers(0, 3)))
    if not negative and new + gone == 0:
        new = 1
    view = View((rng.uniform(-0.05, 0.05), rng.uniform(-0.05, 0.05)), rng.uniform(-3, 3), rng.uniform(0.9, 1.1))
    light = Light(
        gain=rng.uniform(0.6, 1.4),
        gamma=rng.uniform(0.8, 1.25),
        cast=tuple(rng.uniform(0.88, 1.12, 3).tolist()),
        ramp=rng.uniform(0.0, 0.35) * (rng.random() < 0.5),
        shadow=rng.uniform(0.0, 0.45) * (rng.random() < 0.4),
        hard_shadow=rng.uniform(0.0, 0.5) * (rng.random() < 0.3),
    )
    people = int(rng.integers(0, 4))
    pair = make_pair(seed, new=new, gone=gone, view=view, light=light, people=people)
    return pair, "change" if new + gone else "negative"


def write_random_pairs(out: Path, seed: int, count: int) -> None:
    """Write ``count`` random pairs (:func:`random_pair`) as ``out/pair_NNNNNN`` folders."""
    for index in range(count):
        pair, kind = random_pair(seed * 100_000 + index)
        write_pair(pair, out / f"pair_{index:06d}", kind)


if __name__ == "__main__":  # plain-scene training pairs for the region scorer, see models/xiuhua-compare
    import argparse

    parser = argparse.ArgumentParser(description="Write random factory pairs (reference, current, truth).")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--count", type=int, default=100)
    arguments = parser.parse_args()
    write_random_pairs(arguments.out, arguments.seed, arguments.count)

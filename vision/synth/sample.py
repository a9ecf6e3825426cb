"""One labelled training image from a seed: street, camera, light, render, camera effects."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vision.detections import Detections
from vision.synth.conditions import Conditions, sample_conditions
from vision.synth.effects import apply_camera
from vision.synth.ground import StreetLayout
from vision.synth.primitives import Image
from vision.synth.render import LabelRules, render
from vision.synth.scene import Scene, generate_scene
from vision.synth.views import ViewSpec, clear_of_camera, sample_view, visible_spans
from vision.synth.wood import WoodSettings, add_wood

DEFAULT_SIZE = (960, 540)
_WOOD_STREAM = 1  # third entry of the seed sequence of the wood's own random stream


@dataclass(frozen=True, eq=False)
class Sample:
    """A finished synthetic image and its labels.

    Attributes:
        image: ``(H, W, 3)`` BGR uint8 with camera effects, not yet JPEG-compressed.
        truth: Labelled boxes (``track_id`` = object id in ``scene``).
        jpeg_quality: The quality it should be saved with.
        view: Where the camera stood.
        conditions: Light and weather.
        scene: The street it shows.
    """

    image: Image
    truth: Detections
    jpeg_quality: int
    view: ViewSpec
    conditions: Conditions
    scene: Scene


def sample_rng(seed: int, index: int) -> np.random.Generator:
    """The generator of image ``index`` of dataset ``seed`` (independent of how images are spread on workers)."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(index)]))


def make_sample(
    seed: int,
    index: int,
    size: tuple[int, int] = DEFAULT_SIZE,
    rules: LabelRules | None = None,
    wood: WoodSettings | None = None,
) -> Sample:
    """Render image ``index`` of dataset ``seed``.

    Args:
        seed: Dataset seed.
        index: Image number; ``(seed, index)`` fixes everything about the image.
        size: ``(width, height)`` in pixels.
        rules: Visibility rules for labels.
        wood: How often wooden terraces and shop fronts appear (``WoodSettings()`` when not given). They draw from
            their own random stream, so the rest of the image is the same with or without them.
    """
    rng = sample_rng(seed, index)
    layout = StreetLayout.sample(rng)
    view = sample_view(rng, layout)
    camera = view.camera(size)
    scene = generate_scene(rng, layout, visible_spans(camera, layout))
    add_wood(np.random.default_rng(np.random.SeedSequence([int(seed), int(index), _WOOD_STREAM])), scene, camera, wood)
    conditions = sample_conditions(rng)
    objects = clear_of_camera(scene.objects, camera, 1.5 if view.position[2] < 3 else 1.0)
    rendered = render(objects, camera, conditions, rules)
    image = apply_camera(rendered.image, conditions, rng)
    return Sample(image, rendered.truth, conditions.jpeg_quality, view, conditions, scene)

"""Wooden terraces, café tables and plank-clad shop fronts: unlabelled scenery that leaves the labels alone."""

from __future__ import annotations

import numpy as np
import pytest

from vision.synth.sample import Sample, make_sample
from vision.synth.wood import WoodSettings

SIZE = (480, 270)
NO_WOOD = WoodSettings(chance=0.0)
WOOD_KINDS = {"deck", "wooden_front", "bistro_table"}


def _kinds(sample: Sample) -> list[str]:
    return [obj.kind for obj in sample.scene.objects if obj.kind in WOOD_KINDS]


def _first_with(kind: str, wood: WoodSettings) -> tuple[int, Sample]:
    for index in range(20):
        sample = make_sample(31, index, SIZE, wood=wood)
        if kind in _kinds(sample):
            return index, sample
    raise AssertionError(f"no {kind} in 20 scenes")


@pytest.mark.parametrize(
    ("kind", "wood"),
    [
        ("deck", WoodSettings(chance=1.0, deck=1.0, front=0.0, tables=False)),
        ("wooden_front", WoodSettings(chance=1.0, deck=0.0, front=1.0)),
    ],
)
def test_wood_shows_warm_boards_and_leaves_the_labels_as_they_were(kind: str, wood: WoodSettings) -> None:
    index, with_wood = _first_with(kind, wood)
    without = make_sample(31, index, SIZE, wood=NO_WOOD)
    assert not _kinds(without)
    assert all(obj.class_id is None for obj in with_wood.scene.objects if obj.kind in WOOD_KINDS)
    assert np.array_equal(with_wood.truth.xyxy, without.truth.xyxy)
    assert np.array_equal(with_wood.truth.class_id, without.truth.class_id)
    assert np.array_equal(with_wood.truth.track_id, without.truth.track_id)
    changed = np.abs(with_wood.image.astype(int) - without.image.astype(int)).sum(axis=2) > 30
    assert changed.sum() > 0.002 * SIZE[0] * SIZE[1]  # the boards are in the picture
    blue, green, red = with_wood.image[changed].astype(float).mean(axis=0)
    assert red > green > blue  # wood brown where the picture changed


def test_tables_stand_on_a_deck_and_are_unlabelled() -> None:
    _, sample = _first_with("bistro_table", WoodSettings(chance=1.0, deck=1.0, front=0.0))
    kinds = _kinds(sample)
    assert kinds[0] == "deck" and set(kinds[1:]) == {"bistro_table"}
    assert all(obj.class_id is None for obj in sample.scene.objects if obj.kind in WOOD_KINDS)


def test_default_puts_wood_in_some_scenes_not_all() -> None:
    with_wood = sum(bool(_kinds(make_sample(32, index, SIZE))) for index in range(30))
    assert 4 <= with_wood <= 20

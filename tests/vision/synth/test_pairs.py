"""Reference/current pairs: each kind differs only in what its name says, and the truth is readable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vision.compare.evaluate import load_pairs
from vision.synth.classes import CLASS_NAMES
from vision.synth.pairs import PAIR_KINDS, make_pair, write_pairs

SIZE = (480, 270)


def test_same_seed_same_pair() -> None:
    first, again = make_pair(3, 1, SIZE), make_pair(3, 1, SIZE)
    assert first.kind == again.kind
    assert np.array_equal(first.reference, again.reference)
    assert np.array_equal(first.current, again.current)
    assert first.truth() == again.truth()


@pytest.mark.parametrize("index", range(3))
def test_change_pairs_have_regions_inside_the_image(index: int) -> None:
    pair = make_pair(7, index, SIZE, kind="change")
    assert pair.regions
    for region in pair.regions:
        x0, y0, x1, y1 = region.box
        assert 0 <= x0 < x1 <= SIZE[0] and 0 <= y0 < y1 <= SIZE[1]
        assert region.kind in ("new", "gone")
        assert region.class_name in CLASS_NAMES


def test_negative_kinds_change_only_their_own_thing() -> None:
    light = make_pair(5, 0, SIZE, kind="light_only")
    assert not light.regions
    assert light.reference_view == light.current_view
    assert light.reference_conditions != light.current_conditions

    shift = make_pair(5, 1, SIZE, kind="shift_only")
    assert not shift.regions
    assert shift.reference_view != shift.current_view
    assert shift.reference_conditions == shift.current_conditions
    moved = np.subtract(shift.current_view.position, shift.reference_view.position)
    assert np.abs(moved).max() <= 0.3 + 1e-9
    assert abs(shift.current_view.yaw_deg - shift.reference_view.yaw_deg) <= 2.0

    passers = make_pair(5, 2, SIZE, kind="passers_only")
    assert not passers.regions
    assert passers.reference_view == passers.current_view
    assert passers.reference_conditions == passers.current_conditions


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="light_only"):
        make_pair(1, 0, SIZE, kind="earthquake")


def test_written_pairs_load_in_the_comparer_evaluator(tmp_path: Path) -> None:
    summary = write_pairs(tmp_path, seed=2, count=4, size=SIZE)
    assert sum(summary.pairs_by_kind.values()) == 4
    loaded = list(load_pairs(tmp_path))
    assert len(loaded) == 4
    for pair in loaded:
        assert pair.truth.kind in PAIR_KINDS
        assert pair.reference.shape == pair.current.shape == (SIZE[1], SIZE[0], 3)
        assert (pair.truth.kind == "change") == bool(pair.truth.regions)
    assert (tmp_path / "pairs.json").exists()

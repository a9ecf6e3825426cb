"""The evidence image: three panels under a header, regions boxed in their kind's colour."""

from __future__ import annotations

import numpy as np
from factories.change_pairs import View, make_pair

from vision.compare import ChangeResult, ImageComparer
from vision.compare.evidence import KIND_COLOURS, render_evidence


def test_evidence_has_three_panels_and_boxes() -> None:
    pair = make_pair(91, new=1, gone=1, view=View(shift=(0.02, 0.0)), style="shed")
    result = ImageComparer().compare(pair.reference, pair.current)
    evidence = render_evidence(pair.reference, pair.current, result, title="a.jpg -> b.jpg")
    header = 40
    assert evidence.shape[0] == 360 + header
    assert evidence.shape[1] >= 3 * 640
    body = evidence[header:]
    for colour in KIND_COLOURS.values():  # both kinds are drawn
        assert np.any(np.all(body == colour, axis=2))
    assert evidence[:header].std() > 0  # the header carries text


def test_evidence_of_unaligned_pair_still_renders() -> None:
    pair = make_pair(92)
    result = ChangeResult(False, "too few features", None, (), None)
    evidence = render_evidence(pair.reference, pair.current, result, panel_height=180)
    assert evidence.shape[0] == 180 + 40

"""A sighting's evidence: annotated best frame and crop, blurred before drawing when asked."""

from __future__ import annotations

import numpy as np
import pytest
from factories.evidence import make_sighting

from vision.compare.evidence import render_evidence
from vision.evidence import BlurSettings, EvidenceCropper, EvidenceRenderer, FaceBlurrer, render_comparison

pytestmark = pytest.mark.usefixtures("no_cjk_font")


def test_frame_and_crop_of_a_sighting() -> None:
    sighting = make_sighting()
    evidence = EvidenceRenderer().render(sighting, camera_name="East gate")
    assert evidence.frame.shape[1] == 640 and evidence.frame.shape[0] > 480
    expected_crop = EvidenceCropper().crop(sighting.best_frame.image, sighting.best_box).image
    assert np.array_equal(evidence.crop, expected_crop)  # the crop carries no drawing
    assert evidence.blurred_boxes.shape == (0, 4)


def test_blurring_happens_before_cropping_and_drawing() -> None:
    sighting = make_sighting(box=(200, 150, 360, 330))
    person = [[250, 200, 300, 260]]
    plain = EvidenceRenderer().render(sighting)
    blurred = EvidenceRenderer(blurrer=FaceBlurrer(BlurSettings(faces=False, padding=0.0))).render(
        sighting, person_boxes=person
    )
    assert blurred.blurred_boxes.tolist() == person
    changed = np.any(blurred.frame != plain.frame, axis=2)
    assert changed[200:260, 250:300].mean() > 0.9
    assert not changed[:190].any() and not changed[270:480].any()  # the box, label and band are drawn the same
    assert not np.array_equal(blurred.crop, plain.crop)


def test_person_boxes_without_a_blurrer_are_refused() -> None:
    with pytest.raises(ValueError, match="no blurrer"):
        EvidenceRenderer().render(make_sighting(), person_boxes=[[0, 0, 10, 10]])


def test_comparison_evidence_is_the_compare_modules() -> None:
    assert render_comparison is render_evidence

"""The annotated frame: box in the class colour, label, a caption band that fits, Chinese when a font allows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from factories.evidence import make_sighting, textured_image

import vision.evidence.annotate as annotate_module
from vision.draw import class_colour
from vision.evidence import EvidenceStyle, FrameAnnotator, caption_for_sighting
from vision.evidence.caption import EvidenceCaption
from vision.evidence.text import TextPainter

BAND = EvidenceStyle().band_colour


def _caption(camera_name: str = "East gate") -> EvidenceCaption:
    return caption_for_sighting(make_sighting(), camera_name=camera_name)


@pytest.mark.usefixtures("no_cjk_font")
def test_frame_keeps_its_pixels_outside_the_drawing() -> None:
    image = textured_image()
    result = FrameAnnotator().annotate(image, (200, 150, 360, 330), _caption())
    height, width = image.shape[:2]
    assert result.shape[1] == width and result.shape[0] > height
    top = result[:height]
    changed = np.any(top != image, axis=2)
    assert changed[150:152, 250].all()  # the box's top edge
    assert not changed[200:280, 230:330].any()  # inside the box, away from the edges: untouched
    assert not changed[400:, :].any() and not changed[:, 450:].any()  # far from the box: untouched
    assert np.any(np.all(top == class_colour(0), axis=2))  # the label tag in the class colour
    assert np.array_equal(image, textured_image())  # the input itself was not drawn on


@pytest.mark.usefixtures("no_cjk_font")
def test_band_holds_three_lines_of_text() -> None:
    image = textured_image()
    band = FrameAnnotator().annotate(image, (200, 150, 360, 330), _caption())[image.shape[0] :]
    inked_rows = np.flatnonzero(np.any(np.any(band != BAND, axis=2), axis=1))
    assert inked_rows.size > 0
    gaps = np.flatnonzero(np.diff(inked_rows) > 1)
    assert len(gaps) == 2  # three separate runs of inked rows: three lines


@pytest.mark.usefixtures("no_cjk_font")
def test_long_caption_shrinks_to_fit_a_narrow_frame() -> None:
    image = textured_image(120, 160)
    caption = _caption(camera_name="Xinjiekou crossroads, north-east corner, pole 17, camera B")
    band = FrameAnnotator().annotate(image, (20, 20, 60, 60), caption)[120:]
    inked_columns = np.flatnonzero(np.any(np.any(band != BAND, axis=2), axis=0))
    assert inked_columns.max() < 160 - 2  # the longest line ends inside the frame (shrunk, then wrapped)


def test_english_names_without_a_cjk_font(no_cjk_font: None, monkeypatch: pytest.MonkeyPatch) -> None:
    languages = _spy_language(monkeypatch)
    FrameAnnotator().annotate(textured_image(), (200, 150, 360, 330), _caption())
    assert languages == [False]
    assert not TextPainter(20).can_draw("流动摊贩")


def test_chinese_names_with_a_cjk_font(stand_in_cjk_font: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    languages = _spy_language(monkeypatch)
    FrameAnnotator().annotate(textured_image(), (200, 150, 360, 330), _caption())
    assert languages == [True]
    assert TextPainter(20).can_draw("流动摊贩 置信度 0.87")


def test_language_changes_the_rendered_caption(stand_in_cjk_font: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chinese = FrameAnnotator().annotate(textured_image(), (200, 150, 360, 330), _caption())
    monkeypatch.setenv("XIUHUA_CJK_FONT", "none")
    english = FrameAnnotator().annotate(textured_image(), (200, 150, 360, 330), _caption())
    assert not np.array_equal(chinese[480:], english[480:])


@pytest.mark.usefixtures("no_cjk_font")
def test_characters_no_font_has_become_question_marks() -> None:
    painter = TextPainter(20)
    assert painter.can_draw("East gate ± 8 m")
    assert painter.width("东门 gate") == painter.width("?? gate")


@pytest.mark.usefixtures("no_cjk_font")
@pytest.mark.parametrize("box", [(0, 0, 100, 80), (560, 400, 640, 480), (-50, -30, 90, 70), (600, 440, 700, 520)])
def test_boxes_at_and_over_the_edges_are_drawn(box: tuple[float, float, float, float]) -> None:
    result = FrameAnnotator().annotate(textured_image(), box, _caption())
    assert result.shape[1] == 640
    assert np.any(np.all(result[:480] == class_colour(0), axis=2))


@pytest.mark.parametrize(
    ("box", "message"),
    [
        ((700, 10, 800, 90), "outside"),
        ((50, 50, 50, 90), "empty"),
        ((float("nan"), 0, 10, 10), "finite"),
        ((1, 2, 3), "4 finite"),
    ],
)
def test_bad_boxes_are_refused(box: tuple[float, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FrameAnnotator().annotate(textured_image(), box, _caption())


def test_non_bgr_image_is_refused() -> None:
    with pytest.raises(ValueError, match="uint8 BGR"):
        FrameAnnotator().annotate(np.zeros((10, 10), np.uint8), (1, 1, 5, 5), _caption())


def _spy_language(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    seen: list[bool] = []
    real = annotate_module.caption_lines

    def spy(caption: EvidenceCaption, *, chinese: bool) -> tuple[str, ...]:
        seen.append(chinese)
        return real(caption, chinese=chinese)

    monkeypatch.setattr(annotate_module, "caption_lines", spy)
    return seen


@pytest.mark.usefixtures("stand_in_cjk_font")
def test_chinese_without_spaces_wraps_between_characters() -> None:
    image = textured_image(120, 160)
    caption = _caption(camera_name="新街口十字路口东北角第十七号杆北向摄像头")
    band = FrameAnnotator().annotate(image, (20, 20, 60, 60), caption)[120:]
    inked_columns = np.flatnonzero(np.any(np.any(band != BAND, axis=2), axis=0))
    assert inked_columns.max() < 160 - 2
    assert band.shape[0] > FrameAnnotator().annotate(image, (20, 20, 60, 60), _caption("东门"))[120:].shape[0]

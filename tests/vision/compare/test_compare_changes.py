"""What the comparer reports: new and gone objects, not light, not ignored areas, not passers-by."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from factories.change_pairs import Light, View, make_pair

from vision.compare import ChangeRegion, CompareSettings, ImageComparer, PairMismatchError
from vision.compare.scorer import FEATURE_NAMES
from vision.compare.scorer_train import save_scorer
from vision.detections import Detections, box_iou

NAMES = ("person", "car", "shed", "banner")


def iou(box: tuple[int, ...], other: tuple[int, ...]) -> float:
    return float(box_iou(np.array([box], np.float32), np.array([other], np.float32))[0, 0])


def make_detections(boxes: list[tuple[int, int, int, int]], class_ids: list[int]) -> Detections:
    return Detections(
        xyxy=np.asarray(boxes, np.float32).reshape(-1, 4),
        confidence=np.full(len(boxes), 0.9, np.float32),
        class_id=np.asarray(class_ids, np.int64),
    )


@pytest.fixture(scope="module")
def comparer() -> ImageComparer:
    return ImageComparer(CompareSettings())


@pytest.mark.parametrize(
    "light",
    [
        Light(gain=0.6),
        Light(gain=1.4, bias=10),
        Light(gamma=1.25, cast=(1.12, 1.0, 0.88)),
        Light(ramp=0.35),
        Light(shadow=0.45),
        Light(gain=0.7, gamma=0.85, cast=(0.9, 1.0, 1.1), ramp=0.25, shadow=0.35),
    ],
    ids=str,
)
def test_change_of_light_alone_reports_nothing(comparer: ImageComparer, light: Light) -> None:
    pair = make_pair(21, light=light)
    result = comparer.compare(pair.reference, pair.current)
    assert result.aligned
    assert result.regions == ()


def test_moved_camera_alone_reports_nothing(comparer: ImageComparer) -> None:
    pair = make_pair(22, view=View(shift=(0.04, -0.03), rotation=2.0, scale=1.06))
    assert comparer.compare(pair.reference, pair.current).regions == ()


@pytest.mark.parametrize(("seed", "style"), [(31, "shed"), (32, "board"), (33, "shed")])
def test_new_object_is_found_as_new(comparer: ImageComparer, seed: int, style: str) -> None:
    pair = make_pair(seed, new=1, view=View(shift=(0.02, 0.01), rotation=1.0), light=Light(gain=0.85), style=style)
    result = comparer.compare(pair.reference, pair.current)
    ((truth_box, _),) = pair.truth
    assert len(result.regions) == 1
    region = result.regions[0]
    assert region.kind == "new" and region.label is None
    assert iou(region.box, truth_box) > 0.6
    assert 0.5 <= region.score <= 1.0


@pytest.mark.parametrize(("seed", "style"), [(41, "shed"), (42, "board"), (43, "board")])
def test_removed_object_is_found_as_gone(comparer: ImageComparer, seed: int, style: str) -> None:
    pair = make_pair(seed, gone=1, view=View(shift=(-0.02, 0.02), scale=0.95), light=Light(gain=1.15), style=style)
    result = comparer.compare(pair.reference, pair.current)
    ((truth_box, _),) = pair.truth
    assert [region.kind for region in result.regions] == ["gone"]
    assert iou(result.regions[0].box, truth_box) > 0.6


def test_new_and_gone_in_one_pair(comparer: ImageComparer) -> None:
    pair = make_pair(51, new=1, gone=1, view=View(shift=(0.03, 0.0), rotation=-2.0, scale=1.05), style="shed")
    result = comparer.compare(pair.reference, pair.current)
    found = sorted((region.kind, region.box) for region in result.regions)
    truth = sorted((kind, box) for box, kind in pair.truth)
    assert [kind for kind, _ in found] == [kind for kind, _ in truth] == ["gone", "new"]
    for (_, box), (_, true_box) in zip(found, truth, strict=True):
        assert iou(box, true_box) > 0.6


def test_region_mask_is_box_local_and_regions_are_in_current_pixels(comparer: ImageComparer) -> None:
    pair = make_pair(52, width=960, height=540, new=1, style="board")
    result = comparer.compare(pair.reference, pair.current)
    work_width = comparer.settings.work_width
    assert result.change_map is not None and result.change_map.shape == (round(540 * work_width / 960), work_width)
    region: ChangeRegion = result.regions[0]
    x1, y1, x2, y2 = region.box
    assert 0 <= x1 < x2 <= 960 and 0 <= y1 < y2 <= 540
    assert region.mask.shape == (y2 - y1, x2 - x1) and region.mask.dtype == bool
    assert 0 < region.area <= region.mask.size
    assert iou(region.box, pair.truth[0][0]) > 0.6


def test_ignore_mask_hides_changes_under_it(comparer: ImageComparer) -> None:
    pair = make_pair(53, new=1, gone=1, style="shed")
    new_box = next(box for box, kind in pair.truth if kind == "new")
    mask = np.zeros(pair.current.shape[:2], bool)
    x1, y1, x2, y2 = new_box
    mask[max(0, y1 - 10) : y2 + 10, max(0, x1 - 10) : x2 + 10] = True
    result = comparer.compare(pair.reference, pair.current, ignore_mask=mask)
    assert [region.kind for region in result.regions] == ["gone"]


def test_ignore_mask_of_wrong_shape_is_refused(comparer: ImageComparer) -> None:
    pair = make_pair(54)
    with pytest.raises(ValueError, match="ignore_mask"):
        comparer.compare(pair.reference, pair.current, ignore_mask=np.zeros((10, 10), bool))


def test_people_are_dropped_when_detected(comparer: ImageComparer) -> None:
    pair = make_pair(61, new=1, people=2, style="shed")
    unaware = ImageComparer(CompareSettings(scorer=None)).compare(pair.reference, pair.current)
    assert len(unaware.regions) == 3  # to the change map alone, passers-by are changes too
    detections = make_detections(pair.people, [0, 0])
    result = comparer.compare(pair.reference, pair.current, detections_current=detections, names=NAMES)
    assert [region.kind for region in result.regions] == ["new"]
    assert iou(result.regions[0].box, pair.truth[0][0]) > 0.6


def test_person_next_to_a_new_object_does_not_merge_with_it(comparer: ImageComparer) -> None:
    pair = make_pair(55, new=1, people=2, style="shed")
    result = comparer.compare(pair.reference, pair.current, ignore_boxes=np.array(pair.people))
    assert [region.kind for region in result.regions] == ["new"]
    assert iou(result.regions[0].box, pair.truth[0][0]) > 0.6


def test_detection_in_current_labels_region_new(comparer: ImageComparer) -> None:
    pair = make_pair(56, new=1, style="shed")
    box = pair.truth[0][0]
    result = comparer.compare(pair.reference, pair.current, detections_current=make_detections([box], [2]), names=NAMES)
    assert [(region.kind, region.label) for region in result.regions] == [("new", "shed")]


def test_detection_in_reference_only_labels_region_gone(comparer: ImageComparer) -> None:
    pair = make_pair(57, gone=1, view=View(shift=(0.02, 0.0)), style="board")
    # The detector saw the banner in the reference image, in reference pixels.
    current_box = np.array([pair.truth[0][0]], np.float32)
    corners = (
        np.linalg.inv(pair.ref_to_cur)
        @ np.array([[current_box[0, 0], current_box[0, 1], 1.0], [current_box[0, 2], current_box[0, 3], 1.0]]).T
    )
    reference_box = (*corners[:2, 0], *corners[:2, 1])
    result = comparer.compare(
        pair.reference,
        pair.current,
        detections_reference=make_detections([reference_box], [3]),
        detections_current=Detections.empty(),
        names=NAMES,
    )
    assert [(region.kind, region.label) for region in result.regions] == [("gone", "banner")]


def test_compare_many_keeps_only_lasting_change(comparer: ImageComparer) -> None:
    frames = [make_pair(59, new=1, people=1 if index == 1 else 0, style="shed") for index in range(3)]
    reference = frames[0].reference
    single = ImageComparer(CompareSettings(scorer=None)).compare(reference, frames[1].current)
    assert len(single.regions) == 2  # to one frame's change map, the passer-by is a change too
    result = comparer.compare_many(reference, [frame.current for frame in frames])
    assert [region.kind for region in result.regions] == ["new"]
    assert iou(result.regions[0].box, frames[0].truth[0][0]) > 0.6


def test_mismatched_shapes_are_refused(comparer: ImageComparer) -> None:
    pair = make_pair(59)
    with pytest.raises(PairMismatchError, match="aspect"):
        comparer.compare(pair.reference, pair.current[:, :360])


@pytest.mark.parametrize(
    "image", [np.zeros((360, 640), np.uint8), np.zeros((360, 640, 3), np.float32), [[1, 2, 3]]], ids=str
)
def test_not_an_image_is_refused(comparer: ImageComparer, image: object) -> None:
    pair = make_pair(60)
    with pytest.raises(ValueError, match="current image must be"):
        comparer.compare(pair.reference, image)  # type: ignore[arg-type]


def test_following_parallax_keeps_a_real_change() -> None:
    pair = make_pair(31, new=1, view=View(shift=(0.02, 0.01), rotation=1.0), style="shed")
    result = ImageComparer(CompareSettings(max_parallax=0.02)).compare(pair.reference, pair.current)
    assert [region.kind for region in result.regions] == ["new"]
    assert iou(result.regions[0].box, pair.truth[0][0]) > 0.6


def test_following_parallax_adds_nothing_to_a_moved_camera() -> None:
    pair = make_pair(22, view=View(shift=(0.04, -0.03), rotation=2.0, scale=1.06))
    result = ImageComparer(CompareSettings(max_parallax=0.02)).compare(pair.reference, pair.current)
    assert result.regions == ()


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"work_width": 32}, "work_width"),
        ({"threshold": 0.7, "seed_threshold": 0.6}, "threshold"),
        ({"shadow_kernel": 4}, "shadow_kernel"),
        ({"max_scale_change": 0.9}, "max_scale_change"),
        ({"kind_margin": 0.6}, "kind_margin"),
    ],
)
def test_bad_settings_are_refused(changes: dict[str, float], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        CompareSettings(**changes)  # type: ignore[arg-type]


def test_red_rectangle_on_plain_ground_is_new_even_as_the_light_dims() -> None:
    rng = np.random.default_rng(0)
    ground = cv2.resize(cv2.GaussianBlur(rng.normal(0, 1, (270, 480)).astype(np.float32), (0, 0), 6), (640, 360))
    reference = cv2.cvtColor(np.clip(128 + ground / ground.std() * 30, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)
    current = np.clip(reference.astype(np.float32) * 0.7 + 10, 0, 255).astype(np.uint8)
    cv2.rectangle(current, (200, 150), (320, 260), (40, 90, 200), cv2.FILLED)  # a red banner: warm, like light
    result = ImageComparer().compare(reference, current)
    assert [region.kind for region in result.regions] == ["new"]
    assert iou(result.regions[0].box, (200, 150, 321, 261)) > 0.7


def constant_scorer(path: Path, *, fit: float, new: float) -> str:
    """A region scorer file whose heads say the same for every candidate: ``fit`` and probability ``new``."""
    features, hidden = len(FEATURE_NAMES), 4
    weights: dict[str, np.ndarray] = {}
    for head, value in (("fit", fit), ("kind", new)):
        weights |= {
            f"{head}.0.mean": np.zeros(features, np.float32),
            f"{head}.0.scale": np.ones(features, np.float32),
            f"{head}.0.w1": np.zeros((features, hidden), np.float32),
            f"{head}.0.b1": np.zeros(hidden, np.float32),
            f"{head}.0.w2": np.zeros((hidden, hidden), np.float32),
            f"{head}.0.b2": np.zeros(hidden, np.float32),
            f"{head}.0.w3": np.zeros((hidden, 1), np.float32),
            f"{head}.0.b3": np.full(1, np.log(value / (1 - value)), np.float32),
        }
    save_scorer(weights, path)
    return str(path)


@pytest.mark.parametrize(("new_probability", "kind"), [(0.4, "new"), (0.6, "new"), (0.1, "gone"), (0.9, "new")])
def test_the_images_decide_the_kind_where_the_scorer_is_unsure(
    tmp_path: Path, new_probability: float, kind: str
) -> None:
    rng = np.random.default_rng(0)
    ground = cv2.resize(cv2.GaussianBlur(rng.normal(0, 1, (270, 480)).astype(np.float32), (0, 0), 6), (640, 360))
    reference = cv2.cvtColor(np.clip(128 + ground / ground.std() * 30, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)
    current = reference.copy()
    cv2.rectangle(current, (200, 150), (320, 260), (40, 90, 200), cv2.FILLED)  # a new banner
    scorer = constant_scorer(tmp_path / "scorer.npz", fit=0.9, new=new_probability)
    result = ImageComparer(CompareSettings(scorer=scorer, kind_margin=0.3)).compare(reference, current)
    assert result.regions and all(iou(region.box, (200, 150, 321, 261)) > 0.5 for region in result.regions)
    # An unsure head (0.4 or 0.6) leaves the kind to the images, which show a new banner; a sure one is obeyed.
    assert {region.kind for region in result.regions} == {kind}

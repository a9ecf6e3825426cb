"""The three runtimes give the same detections for the same weights and frames.

The weights are random (see vision.detect.random_model), so these tests check plumbing: letterboxing of
non-square frames, decoding of both output layouts, NMS, batching, and mapping boxes back to the image. The
ultralytics backend is the reference: its pre- and post-processing are ultralytics' own, not ours.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vision.detect import Detector, OnnxDetector, OpenVinoDetector, UltralyticsDetector, load_detector
from vision.detect.random_model import CLASS_NAMES, synthetic_frame
from vision.detections import Detections, box_iou

CONF = 0.25
MARGIN = 0.01  # boxes scored within this of a cut-off may fall on either side of it in another runtime
FRAME_SHAPES = [(432, 768), (768, 432), (300, 500), (320, 320)]


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    return [synthetic_frame(h, w, seed=10 + i) for i, (h, w) in enumerate(FRAME_SHAPES)]


def assert_same_detections(expected: Detections, actual: Detections, max_det: int = 300) -> int:
    """Every box scored clearly above both cut-offs has a same-class twin (IoU > 0.9) in the other result.

    A result's cut-off is the threshold, or its lowest score when it is full (``max_det`` boxes).

    Returns:
        How many boxes were compared.
    """
    compared = 0
    for one, other in ((expected, actual), (actual, expected)):
        floors = [CONF] + [r.confidence.min() for r in (one, other) if len(r) >= max_det]
        sure = one[one.confidence > max(floors) + MARGIN]
        iou = box_iou(sure.xyxy, other.xyxy) * (sure.class_id[:, None] == other.class_id[None, :])
        best = iou.max(axis=1) if len(other) else np.zeros(len(sure))
        assert np.all(best > 0.9), f"{int(np.sum(best <= 0.9))} of {len(sure)} boxes have no same-class twin"
        twin = iou.argmax(axis=1) if len(other) else np.zeros(0, int)
        np.testing.assert_allclose(sure.confidence, other.confidence[twin], atol=MARGIN)
        compared += len(sure)
    return compared


def assert_all_same(expected: list[Detections], actual: list[Detections]) -> None:
    assert len(expected) == len(actual)
    compared = [assert_same_detections(e, a) for e, a in zip(expected, actual, strict=True)]
    assert all(n > 0 for n in compared), f"nothing to compare in some frames: {compared}"


@pytest.fixture(scope="module")
def end2end_detectors(random_model: Any) -> dict[str, Detector]:
    return {
        "ultralytics": UltralyticsDetector(random_model.pytorch, threads=2),
        "onnxruntime": OnnxDetector(random_model.onnx, threads=2),
        "openvino": OpenVinoDetector(random_model.openvino, threads=2, precision="f32"),
    }


@pytest.fixture(scope="module")
def classic_detectors(classic_model: dict[str, Path]) -> dict[str, Detector]:
    return {
        "ultralytics": UltralyticsDetector(classic_model["ultralytics"], threads=2, end2end=False),
        "onnxruntime": OnnxDetector(classic_model["onnxruntime"], threads=2),
        "openvino": OpenVinoDetector(classic_model["openvino"], threads=2, precision="f32"),
    }


def test_every_backend_is_a_detector_reading_names_and_size_from_the_model(
    end2end_detectors: dict[str, Detector],
) -> None:
    for runtime, detector in end2end_detectors.items():
        assert isinstance(detector, Detector)
        assert detector.info.runtime == runtime
        assert detector.info.names == CLASS_NAMES
        assert detector.info.imgsz == (320, 320)
        assert detector.info.default_conf == 0.25


@pytest.mark.parametrize("runtime", ["onnxruntime", "openvino"])
def test_end2end_exports_match_pytorch_on_a_mixed_batch(
    end2end_detectors: dict[str, Detector], frames: list[np.ndarray], runtime: str
) -> None:
    reference = end2end_detectors["ultralytics"].detect(frames, conf=CONF)

    assert_all_same(reference, end2end_detectors[runtime].detect(frames, conf=CONF))


@pytest.mark.parametrize("runtime", ["onnxruntime", "openvino"])
def test_classic_static_exports_match_pytorch_with_nms(
    classic_detectors: dict[str, Detector], frames: list[np.ndarray], runtime: str
) -> None:
    detector = classic_detectors[runtime]
    assert isinstance(detector, OnnxDetector | OpenVinoDetector)
    assert not detector.end2end and detector.batch_size == 1

    reference = classic_detectors["ultralytics"].detect(frames, conf=CONF)

    assert_all_same(reference, detector.detect(frames, conf=CONF))


def test_classic_and_end2end_heads_really_differ(
    end2end_detectors: dict[str, Detector], classic_detectors: dict[str, Detector], frames: list[np.ndarray]
) -> None:
    """Guards the comparisons above: they would pass vacuously if every head gave the same boxes."""
    one2one = end2end_detectors["onnxruntime"].detect(frames[:1], conf=CONF)[0]
    one2many = classic_detectors["onnxruntime"].detect(frames[:1], conf=CONF)[0]

    assert len(one2one) != len(one2many) or not np.allclose(one2one.xyxy, one2many.xyxy)


@pytest.mark.parametrize("family", ["end2end", "classic"])
def test_a_batch_gives_what_single_images_give(
    end2end_detectors: dict[str, Detector],
    classic_detectors: dict[str, Detector],
    frames: list[np.ndarray],
    family: str,
) -> None:
    detectors = end2end_detectors if family == "end2end" else classic_detectors
    for detector in detectors.values():
        batched = detector.detect(frames, conf=CONF)
        single = [detector.detect([frame], conf=CONF)[0] for frame in frames]
        assert_all_same(single, batched)


def test_boxes_lie_inside_their_own_frame(end2end_detectors: dict[str, Detector], frames: list[np.ndarray]) -> None:
    for detector in end2end_detectors.values():
        for frame, detections in zip(frames, detector.detect(frames, conf=CONF), strict=True):
            height, width = frame.shape[:2]
            assert len(detections) > 0
            assert np.all(detections.xyxy >= 0)
            assert np.all(detections.xyxy[:, [0, 2]] <= width) and np.all(detections.xyxy[:, [1, 3]] <= height)
            assert np.all(detections.confidence > CONF)
            assert np.all((detections.class_id >= 0) & (detections.class_id < len(CLASS_NAMES)))


def test_threshold_defaults_to_the_info_and_can_be_raised(end2end_detectors: dict[str, Detector]) -> None:
    frame = synthetic_frame(432, 768, seed=10)
    for detector in end2end_detectors.values():
        default = detector.detect([frame])[0]
        strict = detector.detect([frame], conf=0.5)[0]
        assert np.all(default.confidence > detector.info.default_conf)
        assert len(strict) < len(default) and np.all(strict.confidence > 0.5)


def test_empty_batch_and_bad_images(end2end_detectors: dict[str, Detector]) -> None:
    for detector in end2end_detectors.values():
        assert detector.detect([]) == []
        with pytest.raises(ValueError, match="image 1"):
            detector.detect([synthetic_frame(64, 64, 0), np.zeros((64, 64), np.uint8)])


def test_openvino_default_precision_runs(random_model: Any) -> None:
    """OpenVINO's own default (bf16 on CPUs with native bf16) is what load_detector uses; it must still run."""
    detector = OpenVinoDetector(random_model.openvino, threads=1)

    results = detector.detect([synthetic_frame(432, 768, seed=10)], conf=CONF)

    assert len(results) == 1 and len(results[0]) > 0


def test_a_lower_nms_iou_keeps_fewer_boxes(classic_model: dict[str, Path]) -> None:
    frame = synthetic_frame(432, 768, seed=10)

    def loaded(runtime: str, iou: float) -> Detector:
        if runtime == "ultralytics":  # load_detector would pick the .pt's NMS-free head, where IoU plays no part
            return UltralyticsDetector(classic_model[runtime], threads=2, end2end=False, iou=iou)
        return load_detector(classic_model[runtime], threads=2, iou=iou)

    for runtime in ("onnxruntime", "openvino", "ultralytics"):
        loose, tight = loaded(runtime, 0.9), loaded(runtime, 0.3)
        assert len(tight.detect([frame], conf=CONF)[0]) < len(loose.detect([frame], conf=CONF)[0]), runtime


def test_rect_letterboxing_gives_the_same_detections_in_both_exports(
    random_model: Any, end2end_detectors: dict[str, Detector]
) -> None:
    """Models of any input size letterbox a batch of one shape into a smaller input, compiled per size."""
    openvino = OpenVinoDetector(random_model.openvino, threads=2, precision="f32", rect=True)
    onnxruntime = OnnxDetector(random_model.onnx, threads=2, rect=True)
    assert openvino.rect_stride == onnxruntime.rect_stride == 32
    # Six input sizes, more than the OpenVINO backend compiles fixed-size models for, and back to the first.
    for height, width in [(432, 768), (768, 432), (200, 640), (640, 250), (100, 400), (320, 320), (432, 768)]:
        batch = [synthetic_frame(height, width, seed=40 + i) for i in range(2)]
        rect = openvino.detect(batch, conf=CONF)
        assert_all_same(onnxruntime.detect(batch, conf=CONF), rect)
    square = end2end_detectors["openvino"].detect(batch, conf=CONF)
    assert any(len(s) != len(r) or not np.allclose(s.xyxy, r.xyxy) for s, r in zip(square, rect, strict=True))


def test_rect_is_ignored_by_exports_of_fixed_size(classic_model: dict[str, Path], frames: list[np.ndarray]) -> None:
    square = OpenVinoDetector(classic_model["openvino"], threads=2, precision="f32")
    asked = OpenVinoDetector(classic_model["openvino"], threads=2, precision="f32", rect=True)

    assert asked.rect_stride is None
    assert_all_same(square.detect(frames[:1], conf=CONF), asked.detect(frames[:1], conf=CONF))

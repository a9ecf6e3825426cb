"""Our own detection evaluator: any Detector backend against any YOLO-format dataset split.

Classes are matched by NAME between the model and the dataset, so a dataset with its own numbering (the facade
photos: 0 window, 1 cantilever, ... 4 win_ad) evaluates correctly against a model whose ids differ. Dataset classes
the model lacks are reported as not evaluated; predictions of model classes the dataset lacks are dropped (nobody
labelled them, so they can be neither right nor wrong). Metric definitions: :mod:`vision.training.metrics`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from vision.detect.base import Detector
from vision.errors import SourceError, VisionError
from vision.training.dataset import DataSpec, Labels, label_path, load_data_yaml, read_labels
from vision.training.metrics import ClassMetrics, MatchAccumulator


@dataclass(frozen=True)
class EvaluationResult:
    """The metrics of one model on one dataset split.

    Attributes:
        classes: Metrics of each evaluated class (known to both model and dataset, with at least one instance),
            in the dataset's class order.
        map50: Mean AP50 over ``classes``.
        map50_95: Mean AP50-95 over ``classes``.
        not_evaluated: Dataset classes left out, with the reason.
        images: Images evaluated.
        best_f1_conf: The confidence at which precision and recall were read (best class-mean F1).
    """

    classes: dict[str, ClassMetrics]
    map50: float
    map50_95: float
    not_evaluated: dict[str, str] = field(default_factory=dict)
    images: int = 0
    best_f1_conf: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict: ``classes``, ``map50``, ``map50_95``, then the extra keys."""
        return {
            "classes": {name: asdict(metrics) for name, metrics in self.classes.items()},
            "map50": self.map50,
            "map50_95": self.map50_95,
            "not_evaluated": dict(self.not_evaluated),
            "images": self.images,
            "best_f1_conf": self.best_f1_conf,
        }


def class_mapping(model_names: Sequence[str], dataset_names: Sequence[str]) -> dict[int, int]:
    """Map model class ids to dataset class ids through shared class names.

    Raises:
        VisionError: The model and the dataset share no class name.
    """
    dataset_ids = {name: i for i, name in enumerate(dataset_names)}
    mapping = {i: dataset_ids[name] for i, name in enumerate(model_names) if name in dataset_ids}
    if not mapping:
        raise VisionError(
            f"the model and the dataset share no class: model has {', '.join(model_names)}; "
            f"dataset has {', '.join(dataset_names)}"
        )
    return mapping


def evaluate_detector(
    detector: Detector,
    data: DataSpec | Path | str,
    *,
    split: str = "val",
    conf: float = 0.001,
    batch: int = 8,
    progress: Callable[[int], object] | None = None,
) -> EvaluationResult:
    """Run ``detector`` over a dataset split and score it.

    Args:
        detector: Any backend; its ``info.names`` are matched to the dataset's by name.
        data: The dataset, or the path of its data.yaml.
        split: ``"val"``, ``"test"`` or ``"train"``.
        conf: Score threshold passed to the detector; keep it low so the whole PR curve is seen.
        batch: Images per ``detect`` call.
        progress: Called with the number of images done after each batch.

    Returns:
        The metrics.

    Raises:
        VisionError: The split is missing or empty, an image cannot be read, a label is malformed or names a class
            id the data.yaml lacks, no class is shared, or the split has no instance of any shared class.
    """
    spec = data if isinstance(data, DataSpec) else load_data_yaml(data)
    images = spec.images(split)
    mapping = class_mapping(detector.info.names, spec.names)
    shared = np.array(sorted(mapping.values()), np.int64)
    accumulator = MatchAccumulator()
    for chunk in _chunks(images, max(1, batch)):
        pixels = [_read_image(path) for path in chunk]
        for path, image, found in zip(chunk, pixels, detector.detect(pixels, conf=conf), strict=True):
            labels = _checked_labels(path, image, spec)
            keep_true = np.isin(labels.class_id, shared)
            pred_cls = np.array([mapping.get(int(c), -1) for c in found.class_id], np.int64)
            keep_pred = pred_cls >= 0
            accumulator.add(
                found.xyxy[keep_pred],
                found.confidence[keep_pred],
                pred_cls[keep_pred],
                labels.xyxy[keep_true],
                labels.class_id[keep_true],
            )
        if progress is not None:
            progress(len(chunk))
    return _result(accumulator, spec, set(mapping.values()), split, len(images))


def _result(
    accumulator: MatchAccumulator, spec: DataSpec, shared: set[int], split: str, n_images: int
) -> EvaluationResult:
    per_class = accumulator.compute()
    classes: dict[str, ClassMetrics] = {}
    not_evaluated: dict[str, str] = {}
    for class_id, name in enumerate(spec.names):
        if class_id not in shared:
            not_evaluated[name] = "the model has no such class"
        elif class_id not in per_class.classes:
            not_evaluated[name] = f"no instances in the {split} split"
        else:
            classes[name] = per_class.classes[class_id]
    if not classes:
        raise VisionError(
            f"{spec.yaml_path}: {split}: no labelled instance of any class the model knows, so mAP is undefined"
        )
    return EvaluationResult(
        classes=classes,
        map50=float(np.mean([m.ap50 for m in classes.values()])),
        map50_95=float(np.mean([m.ap50_95 for m in classes.values()])),
        not_evaluated=not_evaluated,
        images=n_images,
        best_f1_conf=per_class.best_f1_conf,
    )


def _chunks(items: Sequence[Path], size: int) -> Iterator[Sequence[Path]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _read_image(path: Path) -> npt.NDArray[np.uint8]:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise SourceError(str(path), "cannot read or decode the image")
    return image.astype(np.uint8, copy=False)


def _checked_labels(image_path: Path, image: npt.NDArray[np.uint8], spec: DataSpec) -> Labels:
    file = label_path(image_path)
    labels = read_labels(file, width=image.shape[1], height=image.shape[0])
    bad = labels.class_id[(labels.class_id < 0) | (labels.class_id >= len(spec.names))]
    if len(bad):
        raise VisionError(f"{file}: class id {int(bad[0])} is not in {spec.yaml_path} names (0..{len(spec.names) - 1})")
    return labels

"""YOLO on PyTorch through ``ultralytics.YOLO``: the ``.pt`` checkpoint, CPU or CUDA.

ultralytics does its own letterbox and NMS; this backend asks for the same square ``imgsz`` input the exported
models take (``rect=False``), so all backends see the same pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from vision.detect.letterbox import Letterbox, check_image
from vision.detect.metadata import find_card, resolve_info
from vision.detect.postprocess import Candidates, to_detections
from vision.detect.runtime import ULTRALYTICS, check_threads, import_runtime, parse_device
from vision.detections import Detections
from vision.errors import ModelError

DEFAULT_IMGSZ = 640


class UltralyticsDetector:
    """Detects with an ultralytics ``.pt`` checkpoint.

    Attributes:
        info: The model's classes, input size and default threshold.
        end2end: Whether the NMS-free one-to-one head is used (else the one-to-many head plus NMS).
    """

    def __init__(
        self,
        path: Path | str,
        *,
        device: str = "cpu",
        threads: int | None = None,
        conf: float | None = None,
        iou: float = 0.7,
        max_det: int = 300,
        end2end: bool | None = None,
    ) -> None:
        """Load the checkpoint.

        Args:
            path: The ``.pt`` file.
            device: ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
            threads: torch intra-op threads. torch has one pool per process, so this sets it for the process.
            conf: Default score threshold; ``None`` uses the card's ``default_conf`` or 0.25.
            iou: NMS IoU threshold, when the one-to-many head is used.
            max_det: Most detections kept per image.
            end2end: Use the NMS-free one-to-one head; ``None`` uses it when the checkpoint has one (YOLO26),
                as the ONNX and OpenVINO exports written with ``nms=False`` do.

        Raises:
            ModelError: The file is missing or not a detection checkpoint, ultralytics is missing, or CUDA is
                asked for and absent.
        """
        path = Path(path)
        if not path.is_file():  # checked first: ultralytics would try to download a missing yolo*.pt
            raise ModelError(str(path), "no such PyTorch checkpoint")
        check_threads(threads, path)
        parsed_device = parse_device(device, path)
        ultralytics = import_runtime(ULTRALYTICS, path)
        import torch

        if parsed_device.is_cuda and not torch.cuda.is_available():
            raise ModelError(str(path), "device is CUDA but torch sees no CUDA device")
        if threads is not None:
            torch.set_num_threads(threads)
        try:
            self._model = ultralytics.YOLO(str(path), task="detect")
        except Exception as error:  # torch and ultralytics raise many types for a bad checkpoint
            raise ModelError(str(path), f"cannot load as an ultralytics checkpoint: {error}") from error
        if self._model.task != "detect":
            raise ModelError(str(path), f"is a {self._model.task} model, not a detection model")
        head = self._model.model.model[-1]
        has_one2one = getattr(head, "one2one_cv2", None) is not None or bool(getattr(head, "end2end", False))
        if end2end and not has_one2one:
            raise ModelError(str(path), "end2end=True but the checkpoint has no NMS-free (one-to-one) head")
        self.end2end = has_one2one if end2end is None else end2end
        names = self._model.names
        card = find_card(path.parent)
        # A .pt takes any input size: the card's (the size the folder's exports were made at) keeps the backends
        # of one model folder alike; else the size it was trained at.
        trained = _checkpoint_imgsz(self._model.overrides.get("imgsz"))
        self.info = resolve_info(
            path,
            ULTRALYTICS,
            names=tuple(str(names[i]) for i in range(len(names))),
            imgsz=card.imgsz if card else trained or (DEFAULT_IMGSZ, DEFAULT_IMGSZ),
            card=card,
            conf=conf,
        )
        self._device = str(parsed_device)
        self._iou = iou
        self._max_det = max_det

    def detect(self, images: Sequence[npt.NDArray[np.uint8]], conf: float | None = None) -> list[Detections]:
        """Detect objects in a batch of ``(H, W, 3)`` uint8 BGR images of any sizes, in one call.

        Args:
            images: The batch.
            conf: Score threshold; ``None`` uses ``info.default_conf``.

        Returns:
            One Detections per image, boxes in that image's pixels.
        """
        if not len(images):
            return []
        checked = [check_image(image, i) for i, image in enumerate(images)]
        results = self._model.predict(
            checked,
            imgsz=list(self.info.imgsz),
            conf=self.info.default_conf if conf is None else conf,
            iou=self._iou,
            max_det=self._max_det,
            device=self._device,
            nms=False if self.end2end else None,
            rect=False,
            batch=len(checked),
            verbose=False,
        )
        return [_to_detections(result, image.shape[:2]) for result, image in zip(results, checked, strict=True)]


def _to_detections(result: Any, image_shape: tuple[int, int]) -> Detections:
    boxes = result.boxes
    candidates = Candidates(
        xyxy=boxes.xyxy.cpu().numpy().astype(np.float32),
        score=boxes.conf.cpu().numpy().astype(np.float32),
        class_id=boxes.cls.cpu().numpy().round().astype(np.int64),
    )
    # Boxes are already in image pixels; an identity letterbox clips them and drops empty ones like other backends.
    return to_detections(candidates, Letterbox(image_shape, image_shape, image_shape, 0, 0))


def _checkpoint_imgsz(value: Any) -> tuple[int, int] | None:
    """The training input size stored in a checkpoint's args (an int or [h, w]), if any."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value, value
    if isinstance(value, list | tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return int(value[0]), int(value[1])
    return None

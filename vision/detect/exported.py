"""What the ONNX Runtime and OpenVINO backends share: letterboxing, batching and decoding of bare output arrays."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from vision.detect.base import ModelInfo
from vision.detect.letterbox import make_blob
from vision.detect.postprocess import decode_batch, is_end2end
from vision.detections import Detections
from vision.errors import ModelError

InputDim = int | str | None  # a static size, or a symbolic / unknown (dynamic) one
# YOLO's largest stride: a dynamic-size input must be a multiple of it.
RECT_STRIDE = 32


class ExportedDetector(ABC):
    """A detector over an exported YOLO graph that maps an ``(N, 3, H, W)`` batch to one raw output array.

    Subclasses load the model, set ``info`` and call ``_configure``; then implement ``_infer``. A detector holds
    one inference request: call it from one thread at a time (one detector per worker thread).

    Attributes:
        info: The model's classes, input size and default threshold.
        iou: NMS IoU threshold, for models with the classic (non end-to-end) output.
        max_det: Most detections kept per image.
        end2end: Whether the model outputs the NMS-free ``(B, max_det, 6)`` layout.
        batch_size: The model's fixed batch size, or None when the batch dimension is dynamic.
        rect_stride: The stride a batch of same-shaped images is letterboxed rectangularly to (see
            `Letterbox.fit`); None when they take the square ``info.imgsz`` (not asked for, or the graph's height
            and width are fixed).
    """

    info: ModelInfo
    iou: float
    max_det: int
    end2end: bool
    batch_size: int | None
    rect_stride: int | None = None

    def _configure(
        self,
        *,
        input_shape: Sequence[InputDim],
        output_shape: Sequence[InputDim],
        end2end: bool | None,
        iou: float,
        max_det: int,
        rect: bool = False,
    ) -> None:
        """Settle the output layout, batching and letterboxing from the graph's declared shapes.

        ``rect`` asks for rectangular letterboxing, which a graph with a fixed height and width cannot take.

        Raises:
            ModelError: The shapes do not fit a YOLO detector with ``info.names`` classes.
        """
        path = self.info.path
        if len(input_shape) != 4 or (isinstance(input_shape[1], int) and input_shape[1] != 3):
            raise ModelError(str(path), f"expected an image input (N, 3, H, W), got {list(input_shape)}")
        static = [d for d in input_shape[2:] if isinstance(d, int)]
        if len(static) == 2 and tuple(static) != self.info.imgsz:
            raise ModelError(str(path), f"input is fixed at {static} but the metadata says {list(self.info.imgsz)}")
        guessed = is_end2end(output_shape, len(self.info.names))
        if end2end is None:
            end2end = guessed
        if end2end is None or (guessed is not None and guessed != end2end):
            raise ModelError(
                str(path),
                f"output shape {list(output_shape)} is neither (B, max_det, 6) nor (B, 4 + {len(self.info.names)}"
                f" classes, anchors)",
            )
        self.end2end = end2end
        self.batch_size = input_shape[0] if isinstance(input_shape[0], int) else None
        self.rect_stride = RECT_STRIDE if rect and not static else None
        self.iou = iou
        self.max_det = max_det

    def detect(self, images: Sequence[npt.NDArray[np.uint8]], conf: float | None = None) -> list[Detections]:
        """Detect objects in a batch of ``(H, W, 3)`` uint8 BGR images of any sizes.

        Args:
            images: The batch; one inference call when the model has a dynamic batch, else one per fixed batch.
            conf: Score threshold; ``None`` uses ``info.default_conf``.

        Returns:
            One Detections per image, boxes in that image's pixels.
        """
        if not len(images):
            return []
        threshold = self.info.default_conf if conf is None else conf
        blob, letterboxes = make_blob(images, self.info.imgsz, stride=self.rect_stride)
        output = self._run(blob)
        return decode_batch(
            output, letterboxes, end2end=self.end2end, conf=threshold, iou=self.iou, max_det=self.max_det
        )

    def _run(self, blob: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Run the whole batch at once, or in chunks of the fixed batch size (the last chunk zero-padded)."""
        if self.batch_size is None:
            return self._infer(blob)
        size = self.batch_size
        parts = []
        for start in range(0, len(blob), size):
            chunk = blob[start : start + size]
            if len(chunk) < size:
                chunk = np.concatenate([chunk, np.zeros((size - len(chunk), *chunk.shape[1:]), chunk.dtype)])
            parts.append(self._infer(chunk)[: len(blob) - start])
        return np.concatenate(parts)

    @abstractmethod
    def _infer(self, blob: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Run the graph on one batch; return a copy of its first output."""


def static_size(input_shape: Sequence[InputDim]) -> tuple[int, int] | None:
    """The fixed ``(height, width)`` of an ``(N, 3, H, W)`` input, or None when either is dynamic."""
    if len(input_shape) == 4 and isinstance(input_shape[2], int) and isinstance(input_shape[3], int):
        return input_shape[2], input_shape[3]
    return None

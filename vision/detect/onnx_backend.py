"""YOLO on ONNX Runtime: an ultralytics ``.onnx`` export, static or dynamic batch, CPU or CUDA."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from vision.detect.exported import ExportedDetector, static_size
from vision.detect.metadata import find_card, parse_export_metadata, resolve_info
from vision.detect.runtime import ONNXRUNTIME, check_threads, import_runtime, parse_device
from vision.errors import ModelError


class OnnxDetector(ExportedDetector):
    """Detects with an ONNX model exported by ultralytics, through ONNX Runtime.

    Class names and input size come from the model's metadata, else from ``card.yaml`` beside the file.
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
        rect: bool = False,
    ) -> None:
        """Load the model.

        Args:
            path: The ``.onnx`` file.
            device: ``"cpu"``, ``"cuda"`` or ``"cuda:N"`` (needs onnxruntime-gpu's CUDAExecutionProvider).
            threads: Intra-op threads; ``None`` lets ONNX Runtime choose (one per physical core).
            conf: Default score threshold; ``None`` uses the card's ``default_conf`` or 0.25.
            iou: NMS IoU threshold, for models with the classic (non end-to-end) output.
            max_det: Most detections kept per image.
            rect: Letterbox a batch of same-sized images into a smaller input than the square one (see
                `Letterbox.fit`); only for a model of dynamic height and width.

        Raises:
            ModelError: The file is missing, corrupt or not a YOLO detector, or onnxruntime / the device is missing.
        """
        path = Path(path)
        if not path.is_file():
            raise ModelError(str(path), "no such ONNX file")
        check_threads(threads, path)
        ort = import_runtime(ONNXRUNTIME, path)
        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only; warnings about unused initializers are noise here
        # Idle threads sleep instead of spinning: the CPU is shared with decoding and tracking, and on a busy
        # 2-core machine spinning made inference about 30 % slower (147 vs 108 ms at 640).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if threads is not None:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        providers = _providers(ort, device, path)
        try:
            self._session = ort.InferenceSession(str(path), sess_options=options, providers=providers)
        except Exception as error:  # onnxruntime raises its own exception types for bad files
            raise ModelError(str(path), f"cannot load as an ONNX model: {error}") from error
        metadata = parse_export_metadata(self._session.get_modelmeta().custom_metadata_map, path)
        model_input, output = self._session.get_inputs()[0], self._session.get_outputs()[0]
        self._input_name = model_input.name
        self.info = resolve_info(
            path,
            ONNXRUNTIME,
            names=metadata.names,
            imgsz=static_size(model_input.shape) or metadata.imgsz,
            card=find_card(path.parent),
            conf=conf,
        )
        self._configure(
            input_shape=model_input.shape,
            output_shape=output.shape,
            end2end=metadata.end2end,
            iou=iou,
            max_det=max_det,
            rect=rect,
        )

    @property
    def providers(self) -> list[str]:
        """The execution providers the session runs on, preferred first."""
        return list(self._session.get_providers())

    def _infer(self, blob: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        return np.asarray(self._session.run(None, {self._input_name: blob})[0], dtype=np.float32)


def _providers(ort: Any, device: str, path: Path) -> list[Any]:
    parsed = parse_device(device, path)
    if not parsed.is_cuda:
        return ["CPUExecutionProvider"]
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        raise ModelError(
            str(path), "device is CUDA but this onnxruntime has no CUDAExecutionProvider; install onnxruntime-gpu"
        )
    return [("CUDAExecutionProvider", {"device_id": parsed.index}), "CPUExecutionProvider"]

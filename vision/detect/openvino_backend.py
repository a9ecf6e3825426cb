"""YOLO on OpenVINO: an IR folder written by ultralytics export (``<name>_openvino_model/``) or its ``.xml``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml

from vision.detect.exported import ExportedDetector, InputDim, static_size
from vision.detect.metadata import ExportMetadata, find_card, parse_export_metadata, resolve_info
from vision.detect.runtime import OPENVINO, check_threads, import_runtime, parse_device
from vision.errors import ModelError

METADATA_FILE = "metadata.yaml"
# Input sizes a detector of dynamic height and width compiles a fixed-size model for.
_MAX_FIXED_SIZES = 4


class OpenVinoDetector(ExportedDetector):
    """Detects with an OpenVINO IR model on the CPU.

    Class names and input size come from the folder's ``metadata.yaml``, else from ``card.yaml`` in the IR folder
    or the folder above it (``models/<name>/``).
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
        precision: str | None = None,
        rect: bool = False,
    ) -> None:
        """Load and compile the model.

        Args:
            path: The IR folder, or its ``.xml`` file (the ``.bin`` beside it).
            device: Only ``"cpu"`` is supported.
            threads: ``INFERENCE_NUM_THREADS``; ``None`` lets OpenVINO choose.
            conf: Default score threshold; ``None`` uses the card's ``default_conf`` or 0.25.
            iou: NMS IoU threshold, for models with the classic (non end-to-end) output.
            max_det: Most detections kept per image.
            precision: ``INFERENCE_PRECISION_HINT``: ``"f32"`` computes in float32; ``None`` keeps OpenVINO's
                default, which is bfloat16 on CPUs with native bf16 (faster; scores differ by about 1e-2).
            rect: Letterbox a batch of same-sized images into a smaller input than the square one (see
                `Letterbox.fit`): a 16:9 frame into 512x512 takes 512x320, about a third less inference. Needs an
                IR with dynamic height and width (compiled for each of the first few input sizes the first time
                it is seen, then once for any size); an IR of fixed size stays square.

        Raises:
            ModelError: The model is missing, corrupt or not a YOLO detector, openvino is missing, the device
                is not the CPU, or the precision is unknown.
        """
        path = Path(path)
        xml = find_ir(path)
        check_threads(threads, path)
        if parse_device(device, path).is_cuda:
            raise ModelError(str(path), "the OpenVINO backend runs on the CPU only; use device='cpu'")
        ov = import_runtime(OPENVINO, path)
        self._core = ov.Core()
        self._xml = xml
        self._config: dict[str, Any] = {} if threads is None else {"INFERENCE_NUM_THREADS": threads}
        if precision is not None:
            self._config["INFERENCE_PRECISION_HINT"] = precision
        self._requests: dict[tuple[int, int] | None, Any] = {}
        try:
            model = self._core.read_model(str(xml))
        except Exception as error:  # openvino raises RuntimeError subclasses of its own for bad files
            raise ModelError(str(xml), f"cannot load as an OpenVINO model: {error}") from error
        metadata = _read_metadata(xml.parent)
        input_shape = _dims(model.input(0).get_partial_shape())
        # A graph of dynamic height and width is compiled once per input size (fixed sizes run faster).
        self._sized = len(input_shape) == 4 and (input_shape[2] is None or input_shape[3] is None)
        self.info = resolve_info(
            path,
            OPENVINO,
            names=metadata.names,
            imgsz=static_size(input_shape) or metadata.imgsz,
            card=find_card(xml.parent) or find_card(xml.parent.parent),
            conf=conf,
        )
        self._configure(
            input_shape=input_shape,
            output_shape=_dims(model.output(0).get_partial_shape()),
            end2end=metadata.end2end,
            iou=iou,
            max_det=max_det,
            rect=rect,
        )
        if self.rect_stride is None:  # else compiled for the first batch's size, which frames decide
            self._request_for(self.info.imgsz if self._sized else None, model)

    def _infer(self, blob: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        request = self._request_for((blob.shape[2], blob.shape[3]) if self._sized else None)
        request.infer({0: blob})
        return np.array(request.get_output_tensor(0).data, dtype=np.float32)  # a copy: the buffer is reused

    def _request_for(self, size: tuple[int, int] | None, model: Any = None) -> Any:
        """The inference request of a model compiled for input ``size`` (height, width; None: as the IR says)."""
        request = self._requests.get(size)
        if request is not None:
            return request
        if size is not None and sum(key is not None for key in self._requests) >= _MAX_FIXED_SIZES:
            # Photos of every aspect: the IR's own dynamic size serves the rest, a little slower per image than a
            # fixed size but compiled once (a compile takes about 30 inferences' time).
            return self._request_for(None)
        try:
            model = model if model is not None else self._core.read_model(str(self._xml))
            if size is not None:
                model.reshape({0: [-1, 3, *size]})
            request = self._core.compile_model(model, "CPU", self._config).create_infer_request()
        except Exception as error:  # openvino raises RuntimeError subclasses of its own for bad files
            raise ModelError(str(self._xml), f"cannot load as an OpenVINO model: {error}") from error
        self._requests[size] = request
        return request


def find_ir(path: Path) -> Path:
    """The ``.xml`` of an OpenVINO IR given as the file or its folder.

    Raises:
        ModelError: Nothing there, or the folder holds no or several ``.xml`` files.
    """
    if path.is_file():
        if path.suffix.lower() != ".xml":
            raise ModelError(str(path), "an OpenVINO model is an IR folder or its .xml file")
        return path
    if not path.is_dir():
        raise ModelError(str(path), "no such OpenVINO model folder or .xml file")
    candidates = sorted(path.glob("*.xml"))
    if len(candidates) != 1:
        found = ", ".join(p.name for p in candidates) or "none"
        raise ModelError(str(path), f"expected one OpenVINO .xml in the folder, found {found}")
    return candidates[0]


def _read_metadata(folder: Path) -> ExportMetadata:
    path = folder / METADATA_FILE
    if not path.is_file():
        return ExportMetadata()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ModelError(str(path), f"cannot read export metadata: {error}") from error
    if not isinstance(raw, dict):
        raise ModelError(str(path), "export metadata must be a mapping")
    return parse_export_metadata(raw, path)


def _dims(shape: Any) -> list[InputDim]:
    """An OpenVINO PartialShape as a list: ints for static dimensions, None for dynamic ones."""
    return [dim.get_length() if dim.is_static else None for dim in shape]

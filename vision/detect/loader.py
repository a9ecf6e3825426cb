"""Choosing the backend for a model path: a file, an OpenVINO folder, or a model folder ``models/<name>/``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vision.detect.base import Detector
from vision.detect.metadata import CARD_FILE
from vision.detect.runtime import (
    ONNXRUNTIME,
    OPENVINO,
    RUNTIMES,
    ULTRALYTICS,
    import_runtime,
    install_hint,
    is_installed,
    parse_device,
)
from vision.errors import ModelError

_SUFFIXES = {".pt": ULTRALYTICS, ".onnx": ONNXRUNTIME, ".xml": OPENVINO}
OPENVINO_SUFFIX = "_openvino_model"


@dataclass(frozen=True)
class ModelFiles:
    """The weight files of a model folder, by runtime; None where absent.

    Attributes:
        folder: The model folder.
        openvino: The ``<name>_openvino_model/`` IR folder.
        onnxruntime: The ``<name>.onnx`` file.
        ultralytics: The ``<name>.pt`` file.
    """

    folder: Path
    openvino: Path | None
    onnxruntime: Path | None
    ultralytics: Path | None

    def get(self, runtime: str) -> Path | None:
        """The file for ``runtime``."""
        return {OPENVINO: self.openvino, ONNXRUNTIME: self.onnxruntime, ULTRALYTICS: self.ultralytics}[runtime]

    @property
    def present(self) -> list[str]:
        """Runtimes with a file here, in order of preference on the CPU."""
        return [runtime for runtime in RUNTIMES if self.get(runtime) is not None]


def find_model_files(folder: Path) -> ModelFiles:
    """Find ``<name>.pt``, ``<name>.onnx`` and ``<name>_openvino_model/`` in ``models/<name>/``.

    When a file is not named after the folder, a single file of its kind is taken instead.
    """
    name = folder.name

    def pick(exact: Path, pattern: str, want_dir: bool) -> Path | None:
        if exact.is_dir() if want_dir else exact.is_file():
            return exact
        found = [p for p in sorted(folder.glob(pattern)) if (p.is_dir() if want_dir else p.is_file())]
        return found[0] if len(found) == 1 else None

    return ModelFiles(
        folder=folder,
        openvino=pick(folder / f"{name}{OPENVINO_SUFFIX}", f"*{OPENVINO_SUFFIX}", want_dir=True),
        onnxruntime=pick(folder / f"{name}.onnx", "*.onnx", want_dir=False),
        ultralytics=pick(folder / f"{name}.pt", "*.pt", want_dir=False),
    )


def load_detector(
    path: Path | str,
    *,
    device: str = "cpu",
    threads: int | None = None,
    conf: float | None = None,
    runtime: str | None = None,
    iou: float = 0.7,
    max_det: int = 300,
    rect: bool = False,
) -> Detector:
    """Load a YOLO detector, choosing the backend from the path.

    - ``.pt``: ultralytics; ``.onnx``: ONNX Runtime; ``.xml`` or an IR folder (``*_openvino_model/``): OpenVINO.
    - A model folder ``models/<name>/`` (``card.yaml`` plus weights): the fastest runtime that is present and
      installed: on the CPU OpenVINO, then ONNX Runtime, then ultralytics; on CUDA ONNX Runtime (if it has the
      CUDA provider), then ultralytics.

    Args:
        path: The model file or folder.
        device: ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        threads: Inference threads; ``None`` lets the runtime choose.
        conf: Default score threshold; ``None`` uses the card's ``default_conf`` or 0.25.
        runtime: Force ``"openvino"``, ``"onnxruntime"`` or ``"ultralytics"``.
        iou: NMS IoU threshold, used only by models whose output needs NMS (not YOLO26's end-to-end head).
        max_det: Most detections kept per image.
        rect: Letterbox a batch of same-sized images into a smaller input than the square one when the model
            takes any size (see `Letterbox.fit`: a 16:9 frame into 512x512 takes 512x320, about a third less
            inference; detections differ a little); exported models of fixed size and ultralytics stay square.
            ``False``: the square input, the same pixels in every runtime.

    Returns:
        The loaded detector.

    Raises:
        ModelError: The path is missing or of an unknown format, the file is corrupt, the forced runtime cannot
            load it, or no runtime able to load it is installed. The message names the path and the reason.
    """
    path = Path(path)
    if runtime is not None and runtime not in RUNTIMES:
        raise ModelError(str(path), f"unknown runtime {runtime!r}; expected one of {', '.join(RUNTIMES)}")
    if not path.exists():
        raise ModelError(str(path), "no such model file or folder")
    target, chosen = _resolve(path, device, runtime)
    options: dict[str, Any] = {"device": device, "threads": threads, "conf": conf, "iou": iou, "max_det": max_det}
    if chosen != ULTRALYTICS:
        options["rect"] = rect
    return _construct(chosen, target, options)


def _resolve(path: Path, device: str, runtime: str | None) -> tuple[Path, str]:
    """The file to load and the runtime to load it with."""
    if path.is_file():
        found = _SUFFIXES.get(path.suffix.lower())
        if found is None:
            raise ModelError(
                str(path),
                f"unknown model format {path.suffix or '(no suffix)'!r}; expected .pt, .onnx, .xml, an OpenVINO "
                f"folder or a model folder with {CARD_FILE}",
            )
        return path, _check_forced(path, found, runtime)
    if any(path.glob("*.xml")) and not (path / CARD_FILE).exists():
        return path, _check_forced(path, OPENVINO, runtime)
    files = find_model_files(path)
    if not files.present:
        raise ModelError(
            str(path), f"not a model folder: no weights (<name>.pt, <name>.onnx or <name>{OPENVINO_SUFFIX}/) in it"
        )
    if runtime is not None:
        chosen = files.get(runtime)
        if chosen is None:
            raise ModelError(str(path), f"no {runtime} model here; present: {', '.join(files.present)}")
        return chosen, runtime
    order = _preference(device, path)
    usable = [r for r in order if files.get(r) is not None and is_installed(r)]
    if not usable:
        hints = "; ".join(f"{r}: {install_hint(r)}" for r in files.present if r in order)
        raise ModelError(
            str(path), f"no installed runtime can run the models here on {device} ({hints or 'none fits'})"
        )
    chosen_path = files.get(usable[0])
    assert chosen_path is not None  # usable only lists runtimes with a file
    return chosen_path, usable[0]


def _check_forced(path: Path, found: str, runtime: str | None) -> str:
    if runtime is not None and runtime != found:
        raise ModelError(str(path), f"runtime {runtime!r} cannot load this model; it is for {found}")
    return found


def _preference(device: str, path: Path) -> list[str]:
    """Runtimes to try for a model folder, fastest first, for ``device``."""
    if not parse_device(device, path).is_cuda:
        return [OPENVINO, ONNXRUNTIME, ULTRALYTICS]
    order = [ULTRALYTICS]
    if is_installed(ONNXRUNTIME):
        ort = import_runtime(ONNXRUNTIME, path)
        if "CUDAExecutionProvider" in ort.get_available_providers():
            order.insert(0, ONNXRUNTIME)
    return order


def _construct(runtime: str, path: Path, options: dict[str, Any]) -> Detector:
    if runtime == OPENVINO:
        from vision.detect.openvino_backend import OpenVinoDetector

        return OpenVinoDetector(path, **options)
    if runtime == ONNXRUNTIME:
        from vision.detect.onnx_backend import OnnxDetector

        return OnnxDetector(path, **options)
    from vision.detect.ultralytics_backend import UltralyticsDetector

    return UltralyticsDetector(path, **options)

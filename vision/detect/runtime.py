"""What the detector backends share about runtimes: names, lazy imports, devices.

Each heavy runtime is imported only inside the backend that needs it; a missing one becomes a ModelError that
names the pip extra to install.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from dataclasses import dataclass
from types import ModuleType

from vision.errors import ModelError

ULTRALYTICS = "ultralytics"
ONNXRUNTIME = "onnxruntime"
OPENVINO = "openvino"
RUNTIMES = (OPENVINO, ONNXRUNTIME, ULTRALYTICS)

# The Python module each runtime needs and the pyproject extra that installs it.
_MODULES = {ULTRALYTICS: "ultralytics", ONNXRUNTIME: "onnxruntime", OPENVINO: "openvino"}
_EXTRAS = {ULTRALYTICS: "train", ONNXRUNTIME: "onnx", OPENVINO: "openvino"}


def install_hint(runtime: str) -> str:
    """The pip command that installs ``runtime``."""
    return f"pip install -e '.[{_EXTRAS[runtime]}]'"


def is_installed(runtime: str) -> bool:
    """Whether ``runtime``'s Python module can be imported, without importing it."""
    try:
        return importlib.util.find_spec(_MODULES[runtime]) is not None
    except (ImportError, ValueError):  # a module set to None in sys.modules, or a broken install
        return False


def import_runtime(runtime: str, model: object) -> ModuleType:
    """Import ``runtime``'s module for loading ``model``.

    For ultralytics, the environment is set first so that it never reaches the network (no online check, usage
    analytics or pip auto-install).

    Raises:
        ModelError: The runtime is not installed; the message says which extra to install.
    """
    if runtime == ULTRALYTICS:
        os.environ.setdefault("YOLO_OFFLINE", "1")
        os.environ.setdefault("YOLO_AUTOINSTALL", "0")
    try:
        return importlib.import_module(_MODULES[runtime])
    except ImportError as error:
        raise ModelError(
            str(model), f"the {runtime} runtime is not installed ({error}); {install_hint(runtime)}"
        ) from error


@dataclass(frozen=True)
class Device:
    """Where inference runs.

    Attributes:
        kind: ``"cpu"`` or ``"cuda"``.
        index: The CUDA device number (0 for the CPU).
    """

    kind: str
    index: int = 0

    @property
    def is_cuda(self) -> bool:
        """Whether this is a CUDA device."""
        return self.kind == "cuda"

    def __str__(self) -> str:
        return f"cuda:{self.index}" if self.is_cuda else "cpu"


def parse_device(device: str, model: object) -> Device:
    """Parse ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    Raises:
        ModelError: Any other device name.
    """
    text = device.strip().lower()
    if text == "cpu":
        return Device("cpu")
    if text == "cuda":
        return Device("cuda", 0)
    if text.startswith("cuda:") and text[5:].isdigit():
        return Device("cuda", int(text[5:]))
    raise ModelError(str(model), f"unknown device {device!r}; expected 'cpu', 'cuda' or 'cuda:N'")


def check_threads(threads: int | None, model: object) -> None:
    """Reject a thread count below 1.

    Raises:
        ModelError: ``threads`` is given and not a positive integer.
    """
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise ModelError(str(model), f"threads must be a positive integer, got {threads!r}")

"""Importing ultralytics so that nothing it does reaches the network.

Left alone, ultralytics checks whether it is online at import, sends usage analytics, downloads Arial.ttf for
plots when it reads a data.yaml, downloads yolo26n.pt for its AMP check on a GPU, and pip-installs missing
export requirements. Here: ``YOLO_OFFLINE`` (no online check, no analytics, no update check), ``YOLO_AUTOINSTALL``
off, and the font lookup answers from local files only (we train with ``plots=False``, so no font is needed).
Callers also pass ``amp=False`` and never name a weights file that does not exist locally.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType
from typing import Any

from vision.errors import ModelError

INSTALL_HINT = "install the training extra: pip install -e '.[train]'"


def import_ultralytics() -> ModuleType:
    """Import ultralytics offline (see the module docstring) and return it.

    Raises:
        ModelError: ultralytics is not installed.
    """
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_AUTOINSTALL", "0")
    try:
        import ultralytics
        import ultralytics.data.utils as data_utils
        import ultralytics.utils as utils
        import ultralytics.utils.checks as checks
        import ultralytics.utils.events as events
        import ultralytics.utils.plotting as plotting
    except ImportError as error:
        raise ModelError("ultralytics", f"not installed ({error}); {INSTALL_HINT}") from error
    # If something imported ultralytics before the environment was set, switch the same things off by hand.
    # setattr: these are ultralytics' module globals, whose names vary between its versions.
    for module in (utils, checks):
        if hasattr(module, "ONLINE"):
            setattr(module, "ONLINE", False)  # noqa: B010
    if hasattr(checks, "AUTOINSTALL"):
        setattr(checks, "AUTOINSTALL", False)  # noqa: B010
    if hasattr(events, "events"):
        events.events.enabled = False
    for module in (data_utils, plotting, checks):
        if hasattr(module, "check_font"):
            setattr(module, "check_font", _local_font)  # noqa: B010
    return ultralytics


def _local_font(font: str = "Arial.ttf") -> Path | None:
    """ultralytics' ``check_font`` without its download: the font if it is already on disk, else ``None``."""
    from ultralytics.utils import USER_CONFIG_DIR

    candidate = USER_CONFIG_DIR / Path(font).name
    if candidate.exists():
        return candidate
    path = Path(font)
    return path if path.exists() else None


def torch_load(path: Path) -> dict[str, Any]:
    """Load an ultralytics checkpoint dict on the CPU.

    Raises:
        ModelError: The file is missing or is not an ultralytics checkpoint.
    """
    if not path.is_file():
        raise ModelError(str(path), "no such file")
    import_ultralytics()
    from ultralytics.utils.patches import torch_load as _torch_load

    try:
        checkpoint = _torch_load(path, map_location="cpu")
    except Exception as error:  # torch raises many types for a bad file
        raise ModelError(str(path), f"cannot load as a PyTorch checkpoint: {error}") from error
    if not isinstance(checkpoint, dict) or "model" not in checkpoint:
        raise ModelError(str(path), "not an ultralytics checkpoint (no 'model' entry)")
    return checkpoint

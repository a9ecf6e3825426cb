"""What a model says about itself: ultralytics export metadata and the model card beside the weights.

ultralytics embeds ``names``, ``imgsz``, ``stride``, ``batch``, ``end2end`` and its export ``args`` in an ONNX file's
metadata_props (values as Python literals in strings) and in an OpenVINO folder's ``metadata.yaml``. A model folder
``models/<name>/`` also holds ``card.yaml``; this module reads only the keys inference needs from it
(``name``, ``classes``, ``imgsz``, ``default_conf``) and leaves the rest to whoever writes cards.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from vision.detect.base import ModelInfo
from vision.errors import ModelError

CARD_FILE = "card.yaml"
DEFAULT_CONF = 0.25


@dataclass(frozen=True)
class CardInfo:
    """The inference-relevant part of a model card.

    Attributes:
        path: The card.yaml file.
        name: The model's name.
        classes: Class names in class-id order.
        imgsz: Network input ``(height, width)``.
        default_conf: Recommended score threshold.
    """

    path: Path
    name: str
    classes: tuple[str, ...]
    imgsz: tuple[int, int]
    default_conf: float = DEFAULT_CONF


@dataclass(frozen=True)
class ExportMetadata:
    """What ultralytics recorded in an exported model; a field is None when not recorded.

    Attributes:
        names: Class names in class-id order.
        imgsz: Input ``(height, width)`` the model was exported at.
        end2end: Whether the output is the NMS-free ``(B, max_det, 6)`` layout.
        batch: The exported batch size.
        dynamic: Whether it was exported with dynamic input shapes.
    """

    names: tuple[str, ...] | None = None
    imgsz: tuple[int, int] | None = None
    end2end: bool | None = None
    batch: int | None = None
    dynamic: bool | None = None


def read_card(path: Path) -> CardInfo:
    """Read the inference keys of a card.yaml.

    Raises:
        ModelError: The file cannot be read or a key is malformed; names the file and key.
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ModelError(str(path), f"cannot read model card: {error}") from error
    if not isinstance(raw, dict):
        raise ModelError(str(path), "model card must be a mapping of keys to values")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise ModelError(str(path), f"card key 'name': expected a non-empty string, got {name!r}")
    classes = raw.get("classes")
    if not isinstance(classes, list) or not classes or not all(isinstance(c, str) and c for c in classes):
        raise ModelError(str(path), f"card key 'classes': expected a non-empty list of names, got {classes!r}")
    imgsz = _image_size(raw.get("imgsz"))
    if imgsz is None:
        raise ModelError(str(path), f"card key 'imgsz': expected [height, width], got {raw.get('imgsz')!r}")
    default_conf = raw.get("default_conf", DEFAULT_CONF)
    if isinstance(default_conf, bool) or not isinstance(default_conf, int | float) or not 0 <= default_conf <= 1:
        raise ModelError(str(path), f"card key 'default_conf': expected a number in [0, 1], got {default_conf!r}")
    return CardInfo(path, name, tuple(classes), imgsz, float(default_conf))


def find_card(directory: Path) -> CardInfo | None:
    """Read ``directory/card.yaml`` if it exists."""
    path = directory / CARD_FILE
    return read_card(path) if path.is_file() else None


def parse_export_metadata(raw: Mapping[str, Any], source: object) -> ExportMetadata:
    """Parse ultralytics export metadata; string values (ONNX metadata_props) are read as Python literals.

    Args:
        raw: The metadata mapping (empty when the model has none).
        source: The model, named in errors.

    Raises:
        ModelError: ``names`` or ``imgsz`` is present but malformed.
    """
    values = {key: _literal(value) for key, value in raw.items()}
    names = values.get("names")
    parsed_names: tuple[str, ...] | None = None
    if names is not None:
        if isinstance(names, dict) and sorted(names) == list(range(len(names))):
            parsed_names = tuple(str(names[i]) for i in range(len(names)))
        elif isinstance(names, list | tuple):
            parsed_names = tuple(str(n) for n in names)
        else:
            raise ModelError(str(source), f"metadata 'names' is not a list of class names: {names!r}")
    imgsz = values.get("imgsz")
    parsed_imgsz = _image_size(imgsz)
    if imgsz is not None and parsed_imgsz is None:
        raise ModelError(str(source), f"metadata 'imgsz' is not [height, width]: {imgsz!r}")
    raw_args = values.get("args")
    args: dict[str, Any] = raw_args if isinstance(raw_args, dict) else {}
    batch, end2end, dynamic = values.get("batch"), values.get("end2end"), args.get("dynamic")
    return ExportMetadata(
        names=parsed_names,
        imgsz=parsed_imgsz,
        end2end=end2end if isinstance(end2end, bool) else None,
        batch=batch if isinstance(batch, int) and not isinstance(batch, bool) else None,
        dynamic=dynamic if isinstance(dynamic, bool) else None,
    )


def resolve_info(
    path: Path,
    runtime: str,
    *,
    names: tuple[str, ...] | None,
    imgsz: tuple[int, int] | None,
    card: CardInfo | None,
    conf: float | None,
) -> ModelInfo:
    """Combine the model's own metadata with its card into a ModelInfo.

    The model's metadata wins for the input size; class names must agree when both give them. The score
    threshold is ``conf`` if given, else the card's ``default_conf``, else 0.25.

    Raises:
        ModelError: Names disagree, or neither source gives names or an input size, or ``conf`` is out of range.
    """
    if names is not None and card is not None and names != card.classes:
        raise ModelError(
            str(path), f"the model's class names {list(names)} differ from {card.path}'s classes {list(card.classes)}"
        )
    names = names or (card.classes if card else None)
    if not names:
        raise ModelError(str(path), f"no class names: the model has no metadata and no {CARD_FILE} is beside it")
    imgsz = imgsz or (card.imgsz if card else None)
    if imgsz is None:
        raise ModelError(str(path), f"no input size: the model has no metadata and no {CARD_FILE} is beside it")
    if conf is not None and not 0 <= conf <= 1:
        raise ModelError(str(path), f"conf must be in [0, 1], got {conf}")
    default_conf = conf if conf is not None else (card.default_conf if card else DEFAULT_CONF)
    return ModelInfo(path=path, runtime=runtime, names=names, imgsz=imgsz, default_conf=default_conf)


def _literal(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):  # plain text, e.g. the date
        return value


def _image_size(value: Any) -> tuple[int, int] | None:
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value, value]
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    ):
        return int(value[0]), int(value[1])
    return None

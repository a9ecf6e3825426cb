"""Where things are by default: the shipped model, the local data folder."""

from __future__ import annotations

import os
from pathlib import Path

# The repository root (an editable install keeps the package next to models/).
PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL_NAME = "xiuhua-n"


def default_model_path() -> Path:
    """The model every command uses unless told otherwise: ``$XIUHUA_MODEL`` or ``models/xiuhua-n``."""
    override = os.environ.get("XIUHUA_MODEL")
    return Path(override) if override else PROJECT_ROOT / "models" / DEFAULT_MODEL_NAME


def data_dir() -> Path:
    """The local data folder (database, evidence, references): ``$XIUHUA_DATA`` or ``data/`` in the project."""
    override = os.environ.get("XIUHUA_DATA")
    return Path(override) if override else PROJECT_ROOT / "data"


def database_url() -> str:
    """``$DATABASE_URL``, or a SQLite file in the local data folder."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{data_dir() / 'xiuhua.db'}"

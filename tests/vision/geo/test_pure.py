"""vision.geo stays pure: no service, web or database imports."""

from __future__ import annotations

import ast
from pathlib import Path

import vision.geo

FORBIDDEN = ("service", "sqlalchemy", "fastapi", "httpx", "alembic")


def test_no_service_imports() -> None:
    package = Path(vision.geo.__file__).parent
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"

"""``xiuhua ingest FILE.jsonl``: feed detections from other systems into sightings and candidates."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path
from typing import TextIO

import typer

EXIT_BAD_LINES = 1
EXIT_FAILED = 2


def ingest(
    file: str = typer.Argument(..., help="JSON lines file of detections, or '-' for standard input."),
    database: str | None = typer.Option(None, "--database", help="Database URL (default: $DATABASE_URL)."),
    radius: list[str] = typer.Option(
        [],
        "--radius",
        help="De-duplication radius per violation type, TYPE=METRES (repeatable; default: advertising 5, "
        "street occupation 8, construction 15, others 50). Ingested lines state no accuracy: they reach at least "
        "--max-radius.",
    ),
    max_radius: float = typer.Option(
        50.0, "--max-radius", min=0.1, help="How far a detection without a stated accuracy may lie from a candidate."
    ),
    window_hours: float = typer.Option(
        24.0, "--window-hours", min=0.0, help="How long a rejected candidate or closed case still absorbs sightings."
    ),
    batch: int = typer.Option(500, "--batch", min=1, help="Observations per committed batch."),
) -> None:
    """Ingest one detection per line, de-duplicated by location into violation candidates.

    Each line: {"source", "camera", "time" (ISO-8601 with a time zone), "lat", "lon", "class", "confidence",
    "box" [x1, y1, x2, y2] | null, "track_id" | null, "image" | null}. Detections sharing (source, track_id) are
    one observation; a detection without a track id is one by itself. Relative image paths are read from the
    file's folder. Re-ingesting a file adds nothing twice.

    Bad lines are reported on stderr with their line number and skipped; a missing image is a warning. A summary
    is printed at the end. Exit code: 0 when every line went in, 1 when some lines were bad (the rest went in),
    2 when the file or the database could not be used.
    """
    from datetime import timedelta

    from sqlalchemy.exc import SQLAlchemyError

    from service.db import DatabaseError, init_db, make_engine, session_factory
    from service.defaults import database_url
    from service.violations.dedup import DEFAULT_RADII_M, DedupSettings
    from service.violations.ingest import Ingest, LineProblem
    from service.violations.recorder import Recorder
    from service.violations.verdicts import taxonomy_judge
    from vision.taxonomy import TaxonomyError, load_taxonomy

    try:
        settings = DedupSettings(
            radius_m={**DEFAULT_RADII_M, **_parse_radii(radius)},
            max_radius_m=max_radius,
            window=timedelta(hours=window_hours),
        )
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--radius") from error
    name = "<stdin>" if file == "-" else file

    def report(problem: LineProblem) -> None:
        typer.echo(f"{name}:{problem.message}", err=True)

    try:
        taxonomy = load_taxonomy()
    except TaxonomyError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_FAILED) from error
    unknown = sorted(set(settings.radius_m) - set(taxonomy.violation_types))
    if unknown:
        known = ", ".join(taxonomy.violation_types)
        raise typer.BadParameter(f"{', '.join(unknown)}: not a violation type ({known})", param_hint="--radius")
    job = Ingest(
        Recorder(settings),
        taxonomy_judge(taxonomy),
        known_classes=taxonomy.class_names,
        batch_size=batch,
        on_problem=report,
    )
    engine = None
    try:
        engine = make_engine(database or database_url())
        init_db(engine)
        with _open(file) as lines:
            base_dir = Path.cwd() if file == "-" else Path(file).resolve().parent
            result = job.run(lines, session_factory(engine), base_dir=base_dir)
    except (OSError, UnicodeDecodeError) as error:
        typer.echo(f"error: cannot read {name}: {error}", err=True)
        raise typer.Exit(EXIT_FAILED) from error
    except (DatabaseError, SQLAlchemyError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_FAILED) from error
    finally:
        if engine is not None:
            engine.dispose()
    typer.echo(
        f"{result.lines} lines read, {result.bad} bad, {result.observations} observations: "
        f"{result.sightings} new sightings ({result.dropped} dropped), {result.opened} candidates opened, "
        f"{result.attached} attached, {result.duplicates} already recorded, {result.missing_images} images missing"
    )
    if result.bad:
        raise typer.Exit(EXIT_BAD_LINES)


def _parse_radii(values: list[str]) -> dict[str, float]:
    radii = {}
    for value in values:
        violation_type, _, metres = value.partition("=")
        try:
            radii[violation_type.strip()] = float(metres)
        except ValueError:
            raise ValueError(f"expected TYPE=METRES, got {value!r}") from None
        if not violation_type.strip():
            raise ValueError(f"expected TYPE=METRES, got {value!r}")
    return radii


def _open(file: str) -> nullcontext[TextIO] | TextIO:
    if file == "-":
        return nullcontext(sys.stdin)
    return open(file, encoding="utf-8")  # closed by the caller's with


def register(app: typer.Typer) -> None:
    """Add ``ingest`` to ``app``."""
    app.command("ingest")(ingest)

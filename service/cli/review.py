"""``xiuhua review export``: reviewed items as a YOLO dataset for the next training round."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from service.defaults import data_dir, database_url


def register(app: typer.Typer) -> None:
    """Add the ``review`` command group to ``app``."""
    group = typer.Typer(help="Review queue tools.", no_args_is_help=True)
    group.command("export")(export)
    app.add_typer(group, name="review")


def export(
    out: Path = typer.Option(..., "--out", "-o", help="New or empty folder for the dataset."),
    since: str | None = typer.Option(None, "--since", help="Only decisions from then on (ISO 8601 with offset)."),
    database: str | None = typer.Option(None, "--database", help="Database URL (default: $DATABASE_URL or data/)."),
    evidence_dir: Path | None = typer.Option(None, "--evidence-dir", help="Evidence folder (default: data/evidence)."),
    kind: list[str] = typer.Option(["source"], "--kind", help="Evidence kinds that are clean frames (repeatable)."),
    negative: list[str] = typer.Option(
        ["false_detection"], "--negative", help="Reject reasons exported as negatives (repeatable)."
    ),
    val_fraction: float = typer.Option(0.1, "--val-fraction", min=0.0, max=0.99, help="Share of images for val."),
) -> None:
    """Write confirmed candidates as labels and false detections as negative images (empty label files).

    Prints a summary and every piece of evidence left out; exit code 2 for bad options or an unreachable database.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from service.db import make_engine, session_factory
    from service.errors import ServiceError
    from service.review.export import export_yolo

    start = _parse_since(since)
    engine = make_engine(database or database_url())
    try:
        with session_factory(engine)() as session:
            summary = export_yolo(
                session,
                evidence_dir=evidence_dir or data_dir() / "evidence",
                out_dir=out,
                since=start,
                frame_kinds=tuple(kind),
                negative_reasons=tuple(negative),
                val_fraction=val_fraction,
            )
    except SQLAlchemyError as error:
        where = engine.url.render_as_string(hide_password=True)
        typer.echo(f"error: database {where}: {getattr(error, 'orig', None) or error}", err=True)
        raise typer.Exit(2) from error
    except ServiceError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    finally:
        engine.dispose()
    for skipped in summary.skipped:
        typer.echo(f"skipped: candidate {skipped.candidate_id} {skipped.path}: {skipped.reason}", err=True)
    typer.echo(
        f"{summary.images} images ({summary.labelled} labelled, {summary.negatives} negatives), {summary.boxes} "
        f"boxes from {summary.candidates} candidates; {len(summary.skipped)} skipped; {summary.data_yaml}"
    )


def _parse_since(since: str | None) -> datetime | None:
    if since is None:
        return None
    try:
        start = datetime.fromisoformat(since)
    except ValueError as error:
        raise typer.BadParameter(f"{since!r} is not an ISO 8601 time", param_hint="--since") from error
    if start.tzinfo is None:
        raise typer.BadParameter(f"{since!r} has no time zone; add one such as +08:00", param_hint="--since")
    return start

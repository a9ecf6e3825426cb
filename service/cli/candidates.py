"""``xiuhua candidates``: list violation candidates as a table, JSON or GeoJSON."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import typer

from service.db.models.violations import CANDIDATE_STATUSES

if TYPE_CHECKING:
    from service.violations.records import CandidateSummary

ALL = "all"


def candidates(
    violation_type: str | None = typer.Option(None, "--type", help="Only this violation type."),
    status: str = typer.Option(
        "open", "--status", help=f"Only this status ({', '.join(CANDIDATE_STATUSES)}) or 'all'."
    ),
    since: str | None = typer.Option(
        None, "--since", help="Only candidates last seen since then: ISO-8601 time with a zone, or a date (UTC)."
    ),
    limit: int | None = typer.Option(None, "--limit", min=1, help="At most this many, most recently seen first."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array, one object per candidate."),
    as_geojson: bool = typer.Option(False, "--geojson", help="Print a GeoJSON FeatureCollection of points."),
    database: str | None = typer.Option(None, "--database", help="Database URL (default: $DATABASE_URL)."),
) -> None:
    """List candidates (default: open ones), most recently seen first.

    Columns: id, violation type, event code, lat, lon, first and last seen (UTC), sightings, and the newest
    evidence file of each kind. --json objects carry the same fields plus class, status, accuracy_m and score;
    --geojson puts them in each feature's properties with a Point geometry [lon, lat].
    """
    from sqlalchemy.exc import SQLAlchemyError

    from service.db import DatabaseError, init_db, make_engine, session_factory
    from service.defaults import database_url
    from service.violations.listing import candidate_json, feature_collection
    from service.violations.queries import list_candidates

    if as_json and as_geojson:
        raise typer.BadParameter("choose one of --json and --geojson", param_hint="--json")
    if status != ALL and status not in CANDIDATE_STATUSES:
        raise typer.BadParameter(
            f"{status!r} is not one of {', '.join(CANDIDATE_STATUSES)} or 'all'", param_hint="--status"
        )
    since_time = _parse_since(since) if since is not None else None
    engine = None
    try:
        engine = make_engine(database or database_url())
        init_db(engine)
        with session_factory(engine)() as session:
            found = list_candidates(
                session,
                statuses=None if status == ALL else (status,),
                violation_type=violation_type,
                since=since_time,
                limit=limit,
            )
    except (DatabaseError, SQLAlchemyError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    finally:
        if engine is not None:
            engine.dispose()
    if as_json:
        typer.echo(json.dumps([candidate_json(candidate) for candidate in found], ensure_ascii=False, indent=2))
    elif as_geojson:
        typer.echo(json.dumps(feature_collection(found), ensure_ascii=False, indent=2))
    else:
        for line in _table(found):
            typer.echo(line)
        typer.echo(f"{len(found)} candidates", err=True)


def _parse_since(value: str) -> datetime:
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=UTC)
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise typer.BadParameter(f"{value!r} is not an ISO-8601 time or date", param_hint="--since") from error
    if parsed.tzinfo is None:
        raise typer.BadParameter(f"{value!r} has no time zone; add Z or an offset such as +08:00", param_hint="--since")
    return parsed


def _table(found: list[CandidateSummary]) -> list[str]:
    header = ("id", "type", "code", "lat", "lon", "first seen (UTC)", "last seen (UTC)", "sightings", "evidence")
    table = [header] + [
        (
            str(candidate.id),
            candidate.violation_type,
            candidate.event_code,
            f"{candidate.lat:.6f}",
            f"{candidate.lon:.6f}",
            candidate.first_seen.strftime("%Y-%m-%d %H:%M:%S"),
            candidate.last_seen.strftime("%Y-%m-%d %H:%M:%S"),
            str(candidate.sightings),
            " ".join(record.path for record in candidate.evidence) or "-",
        )
        for candidate in found
    ]
    widths = [max(len(row[column]) for row in table) for column in range(len(header))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in table]


def register(app: typer.Typer) -> None:
    """Add ``candidates`` to ``app``."""
    app.command("candidates")(candidates)

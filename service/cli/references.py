"""``xiuhua references capture`` and ``xiuhua references list``: reference images of camera views, presets and
patrol positions, for image comparison.

Capturing for a place that already has a current reference is refused unless ``--replace`` is given; the replaced
reference is kept (marked replaced) for the evidence that used it, and ``list --history`` shows it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from service.cli.database import DATABASE_HELP, fail, opened_database
from service.cli.main import app

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from service.db.models import Reference
    from vision.frame import GeoPoint

references_app = typer.Typer(
    help="Reference images of camera views, PTZ presets and patrol positions.", no_args_is_help=True
)
app.add_typer(references_app, name="references")


@references_app.command("capture")
def capture(
    camera: str = typer.Argument(..., help="The camera's key."),
    source: str = typer.Argument(..., help="Image or video file, folder of images, or stream URL."),
    preset: str | None = typer.Option(None, "--preset", help="PTZ preset (none for fixed and patrol cameras)."),
    lat: float | None = typer.Option(None, "--lat", help="Where it was taken (default: the photo's EXIF GPS)."),
    lon: float | None = typer.Option(None, "--lon", help="Longitude, with --lat."),
    heading: float | None = typer.Option(None, "--heading", help="Direction the camera looks, degrees from north."),
    taken_at: str | None = typer.Option(
        None, "--taken-at", help="ISO time with offset, e.g. 2024-06-11T14:03:00+08:00 (default: EXIF/video/now)."
    ),
    tz: str | None = typer.Option(None, "--tz", help="Zone of times without offset, e.g. Asia/Shanghai."),
    frames: int = typer.Option(1, "--frames", min=1, help="Read this many frames and keep the sharpest."),
    replace: bool = typer.Option(False, "--replace", help="Replace the place's current reference."),
    store: Path | None = typer.Option(None, "--store", help="Reference folder (default: data/references)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object: the reference and the ids it replaced."),
    database: str | None = typer.Option(None, "--database", help=DATABASE_HELP),
) -> None:
    """Capture a reference image for a camera view, PTZ preset or patrol position.

    A patrol camera's reference needs --lat, --lon and --heading (or GPS with direction in the photo's EXIF).

    Exit code 2 with one error line: unknown camera, unreadable or blank picture, missing position, or a place that
    already has a current reference (without --replace).
    """
    from service.evidence import EvidenceError
    from service.references import ReferenceStore, capture_reference

    zone = _zone(tz)
    taken = _parse_time(taken_at, zone)
    position = _position(lat, lon, heading)
    with opened_database(database) as sessions, sessions() as session, session.begin():
        try:
            new = capture_reference(
                session,
                store=ReferenceStore(store),
                camera_key=camera,
                source=source,
                preset=preset,
                taken_at=taken,
                position=position,
                frames=frames,
                replace=replace,
                default_tz=zone,
            )
        except (EvidenceError, OSError) as error:
            fail(f"reference folder: {error}")
        shown = reference_json(new.reference, camera_key=camera)
        replaced = [reference.id for reference in new.replaced]
    if as_json:
        typer.echo(json.dumps({"reference": shown, "replaced": replaced}, ensure_ascii=False))
        return
    words = f", replacing {', '.join(map(str, replaced))}" if replaced else ""
    typer.echo(f"reference {shown['id']} of {camera}{_place_words(shown)} taken {shown['taken_at']}{words}")
    typer.echo(f"  {shown['image_path']}")


@references_app.command("list")
def list_command(
    camera: str | None = typer.Argument(None, help="Only this camera's references."),
    history: bool = typer.Option(False, "--history", help="Also the replaced ones."),
    as_json: bool = typer.Option(False, "--json", help='Print {"items": [...], "count": N}.'),
    database: str | None = typer.Option(None, "--database", help=DATABASE_HELP),
) -> None:
    """List the current reference of every place (with --history, the replaced ones too).

    Ordered by camera, then preset, newest first. JSON items: id, camera, preset, lat, lon, heading_deg, taken_at,
    image_path (relative to the reference folder), sha256, current, replaced_at.
    """
    from service.references import list_references

    with opened_database(database) as sessions, sessions() as session:
        references = list_references(session, camera_key=camera, include_replaced=history)
        keys = _camera_keys(session)
        items = [reference_json(reference, camera_key=keys[reference.camera_id]) for reference in references]
    if as_json:
        typer.echo(json.dumps({"items": items, "count": len(items)}, ensure_ascii=False))
        return
    for item in items:
        state = "current" if item["current"] else f"replaced {item['replaced_at']}"
        typer.echo(
            f"{item['id']}\t{item['camera']}{_place_words(item)}\t{item['taken_at']}\t{state}\t{item['image_path']}"
        )
    typer.echo(f"{len(items)} reference(s)", err=True)


def reference_json(reference: Reference, *, camera_key: str) -> dict[str, Any]:
    """A reference as the commands print it (times in ISO 8601, UTC)."""
    return {
        "id": reference.id,
        "camera": camera_key,
        "preset": reference.preset,
        "lat": reference.lat,
        "lon": reference.lon,
        "heading_deg": reference.heading_deg,
        "taken_at": reference.taken_at.astimezone(UTC).isoformat(),
        "image_path": reference.image_path,
        "sha256": reference.sha256,
        "current": reference.replaced_at is None,
        "replaced_at": None if reference.replaced_at is None else reference.replaced_at.astimezone(UTC).isoformat(),
    }


def _camera_keys(session: Session) -> dict[int, str]:
    from service.cameras.queries import list_cameras

    return {camera.id: camera.key for camera in list_cameras(session)}


def _place_words(item: dict[str, Any]) -> str:
    if item["preset"] is not None:
        return f" preset {item['preset']}"
    if item["lat"] is not None:
        heading = "" if item["heading_deg"] is None else f" heading {item['heading_deg']:.0f}°"
        return f" at {item['lat']:.6f},{item['lon']:.6f}{heading}"
    return ""


def _zone(name: str | None) -> tzinfo | None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise typer.BadParameter(f"unknown time zone {name!r}", param_hint="--tz") from error


def _parse_time(text: str | None, zone: tzinfo | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise typer.BadParameter(f"{text!r} is not an ISO 8601 time", param_hint="--taken-at") from error
    if moment.tzinfo is not None:
        return moment
    if zone is None:
        raise typer.BadParameter(f"{text!r} has no zone: add an offset (+08:00) or --tz", param_hint="--taken-at")
    return moment.replace(tzinfo=zone)


def _position(lat: float | None, lon: float | None, heading: float | None) -> GeoPoint | None:
    from vision.frame import GeoPoint

    if lat is None and lon is None:
        if heading is not None:
            raise typer.BadParameter("--heading needs --lat and --lon", param_hint="--heading")
        return None
    if lat is None or lon is None:
        raise typer.BadParameter("give both --lat and --lon", param_hint="--lat/--lon")
    try:
        return GeoPoint(lat, lon, heading_deg=heading)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--lat/--lon") from error

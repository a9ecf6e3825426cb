"""``xiuhua cameras add`` and ``xiuhua cameras list``: the cameras references and scans belong to."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer

from service.cli.database import DATABASE_HELP, opened_database
from service.cli.main import app

if TYPE_CHECKING:
    from service.db.models import Camera

cameras_app = typer.Typer(help="Cameras: fixed, PTZ and patrol vehicles.", no_args_is_help=True)
app.add_typer(cameras_app, name="cameras")


@cameras_app.command("add")
def add_camera(
    key: str = typer.Argument(..., help="The department's name for it, e.g. cam-012."),
    kind: str = typer.Option(..., "--kind", help="fixed, ptz or patrol."),
    name: str = typer.Option("", "--name", help="A readable name."),
    stream_url: str | None = typer.Option(None, "--stream-url", help="Where its live video is (RTSP, HLS, ...)."),
    lat: float | None = typer.Option(None, "--lat", help="Latitude (WGS-84) of a fixed or PTZ camera."),
    lon: float | None = typer.Option(None, "--lon", help="Longitude (WGS-84)."),
    heading: float | None = typer.Option(None, "--heading", help="Direction it looks, degrees from north."),
    as_json: bool = typer.Option(False, "--json", help="Print the camera as one JSON object."),
    database: str | None = typer.Option(None, "--database", help=DATABASE_HELP),
) -> None:
    """Add a camera. Exit code 2 for a bad or taken key, an unknown kind, or a position out of range."""
    from service.cameras.queries import create_camera

    with opened_database(database) as sessions, sessions() as session, session.begin():
        camera = create_camera(
            session, key=key, kind=kind, name=name, stream_url=stream_url, lat=lat, lon=lon, heading_deg=heading
        )
        shown = camera_json(camera)
    typer.echo(json.dumps(shown, ensure_ascii=False) if as_json else f"camera {shown['key']} ({shown['kind']}) added")


@cameras_app.command("list")
def list_cameras(
    kind: str | None = typer.Option(None, "--kind", help="Only cameras of this kind."),
    as_json: bool = typer.Option(False, "--json", help='Print {"items": [...], "count": N}.'),
    database: str | None = typer.Option(None, "--database", help=DATABASE_HELP),
) -> None:
    """List cameras by key."""
    from service.cameras.queries import list_cameras as query_cameras

    with opened_database(database) as sessions, sessions() as session:
        items = [camera_json(camera) for camera in query_cameras(session, kind=kind)]
    if as_json:
        typer.echo(json.dumps({"items": items, "count": len(items)}, ensure_ascii=False))
        return
    for item in items:
        where = "" if item["lat"] is None else f"\t{item['lat']:.6f},{item['lon']:.6f}"
        typer.echo(f"{item['key']}\t{item['kind']}\t{item['name']}{where}")
    typer.echo(f"{len(items)} camera(s)", err=True)


def camera_json(camera: Camera) -> dict[str, Any]:
    """A camera as the commands print it."""
    return {
        "key": camera.key,
        "name": camera.name,
        "kind": camera.kind,
        "stream_url": camera.stream_url,
        "lat": camera.lat,
        "lon": camera.lon,
        "heading_deg": camera.heading_deg,
        "enabled": camera.enabled,
    }

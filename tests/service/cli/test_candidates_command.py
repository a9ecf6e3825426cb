"""``xiuhua candidates``: the table, --json and --geojson shapes, filters."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from factories.database import BACKENDS, temporary_database
from factories.observations import T0, accept, make_observation
from sqlalchemy import update
from typer.testing import CliRunner

from service.cli import candidates
from service.db import init_db, make_engine, session_factory
from service.db.models import Candidate
from service.violations.recorder import Recorder
from service.violations.records import EvidenceRecord

runner = CliRunner()
FIELDS = {
    "id",
    "violation_type",
    "event_code",
    "class",
    "status",
    "lat",
    "lon",
    "accuracy_m",
    "first_seen",
    "last_seen",
    "sightings",
    "score",
    "evidence",
}


def make_app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Commands under test."""

    candidates.register(app)
    return app


@pytest.fixture(scope="module", params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database with three candidates: two street occupations (one rejected) and one banner.

    Shared by the module's tests: they only read it.
    """
    with temporary_database(request.param, tmp_path_factory.mktemp("database")) as url:
        engine = make_engine(url)
        init_db(engine)
        frame = EvidenceRecord("frame", "2026/05/01/stall.jpg", hashlib.sha256(b"x").hexdigest(), T0)
        banner = make_observation("banner", east_m=300, minutes=30, violation_type="illegal_advertising")
        with session_factory(engine)() as session:
            recorder = Recorder()
            recorder.record(session, make_observation("stall"), accept(), evidence=[frame])
            recorder.record(session, make_observation("stall-2", north_m=5, minutes=60), accept())
            old = recorder.record(session, make_observation("old", north_m=500, minutes=-3000), accept())
            recorder.record(session, banner, accept("illegal_advertising"))
            session.execute(update(Candidate).where(Candidate.id == old.candidate_id).values(status="rejected"))
            session.commit()
        engine.dispose()
        yield url


def invoke(*args: str) -> Any:
    result = runner.invoke(make_app(), ["candidates", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_lists_open_candidates_with_evidence(database: str) -> None:
    items = invoke("--json", "--database", database)
    assert [item["violation_type"] for item in items] == ["street_occupation", "illegal_advertising"]
    assert all(set(item) == FIELDS for item in items)
    stall = items[0]
    assert (stall["event_code"], stall["class"], stall["status"], stall["sightings"]) == (
        "0501",
        "vendor_stall",
        "open",
        2,
    )
    assert stall["first_seen"] == "2026-05-01T08:00:00+00:00"
    assert stall["last_seen"] == "2026-05-01T09:00:00+00:00"
    assert stall["evidence"] == [
        {
            "kind": "frame",
            "path": "2026/05/01/stall.jpg",
            "sha256": hashlib.sha256(b"x").hexdigest(),
            "taken_at": "2026-05-01T08:00:00+00:00",
        }
    ]


def test_geojson_is_a_feature_collection_of_points(database: str) -> None:
    collection = invoke("--geojson", "--database", database)
    assert collection["type"] == "FeatureCollection"
    assert len(collection["features"]) == 2
    for feature in collection["features"]:
        assert feature["type"] == "Feature"
        assert feature["geometry"]["type"] == "Point"
        lon, lat = feature["geometry"]["coordinates"]
        assert 120.0 < lon < 120.3 and 30.2 < lat < 30.3
        assert set(feature["properties"]) == FIELDS - {"lat", "lon"}
        assert feature["id"] == feature["properties"]["id"]


@pytest.mark.parametrize(
    ("options", "types"),
    [
        (["--type", "illegal_advertising"], ["illegal_advertising"]),
        (["--status", "rejected"], ["street_occupation"]),
        (["--status", "all"], ["street_occupation", "illegal_advertising", "street_occupation"]),
        (["--since", "2026-05-01T08:45:00Z"], ["street_occupation"]),
        (["--since", "2026-05-01T16:31:00+08:00"], ["street_occupation"]),
        (["--since", "2026-05-02"], []),
        (["--limit", "1"], ["street_occupation"]),
    ],
)
def test_filters(database: str, options: list[str], types: list[str]) -> None:
    items = invoke("--json", "--database", database, *options)
    assert [item["violation_type"] for item in items] == types


def test_table(database: str) -> None:
    result = runner.invoke(make_app(), ["candidates", "--database", database])
    assert result.exit_code == 0
    header, first, second = result.stdout.strip().splitlines()
    assert header.split()[:5] == ["id", "type", "code", "lat", "lon"]
    assert "street_occupation" in first and "0501" in first and first.endswith("2026/05/01/stall.jpg")
    assert second.endswith("-")
    assert "2 candidates" in result.stderr


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--json", "--geojson"], "one of --json and --geojson"),
        (["--status", "pending"], "'pending' is not one of"),
        (["--since", "2026-05-01T08:00:00"], "no time zone"),
        (["--since", "soon"], "not an ISO-8601"),
    ],
)
def test_bad_options(tmp_path: Path, options: list[str], message: str) -> None:
    result = runner.invoke(make_app(), ["candidates", "--database", f"sqlite:///{tmp_path / 'x.db'}", *options])
    assert result.exit_code == 2
    assert message in result.output

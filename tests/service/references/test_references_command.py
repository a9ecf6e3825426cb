"""``xiuhua cameras add`` and ``xiuhua references capture|list`` on a migrated SQLite database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from factories.media import make_video
from factories.references import STREET, textured_photo
from typer.testing import CliRunner

import service.cli.cameras
import service.cli.references  # noqa: F401  (registers the command groups on the app)
from service.cli.main import app
from service.references import ReferenceStore

REFERENCE_FIELDS = {
    "id",
    "camera",
    "preset",
    "lat",
    "lon",
    "heading_deg",
    "taken_at",
    "image_path",
    "sha256",
    "current",
    "replaced_at",
}


class Xiuhua:
    """Runs ``xiuhua`` commands against one database and reference folder."""

    def __init__(self, folder: Path) -> None:
        self.database = f"sqlite:///{folder / 'xiuhua.db'}"
        self.store = folder / "references"
        self.runner = CliRunner()

    def __call__(self, *arguments: str | Path | float, code: int = 0) -> str:
        words = [str(argument) for argument in arguments]
        if words[:2] == ["references", "capture"]:
            words += ["--store", str(self.store)]
        result = self.runner.invoke(app, [*words, "--database", self.database])
        assert result.exit_code == code, result.output
        return result.output


@pytest.fixture
def xiuhua(tmp_path: Path) -> Xiuhua:
    return Xiuhua(tmp_path)


def test_capture_then_list_as_json(xiuhua: Xiuhua, tmp_path: Path) -> None:
    xiuhua("cameras", "add", "cam-012", "--kind", "ptz", "--name", "North gate", "--lat", "31.2", "--lon", "121.4")
    xiuhua("cameras", "add", "van-3", "--kind", "patrol")
    photo = textured_photo(tmp_path / "gate.jpg", taken="2024:06:11 14:03:22", offset="+08:00")
    street = textured_photo(tmp_path / "street.jpg", seed=4)

    captured = json.loads(xiuhua("references", "capture", "cam-012", photo, "--preset", "gate", "--json"))
    xiuhua("references", "capture", "van-3", street, "--lat", STREET[0], "--lon", STREET[1], "--heading", "90")
    listed = json.loads(xiuhua("references", "list", "--json"))

    assert set(listed) == {"items", "count"} and listed["count"] == 2
    assert [set(item) for item in listed["items"]] == [REFERENCE_FIELDS, REFERENCE_FIELDS]
    gate, street_reference = listed["items"]
    assert captured == {"reference": gate, "replaced": []}
    assert (gate["camera"], gate["preset"], gate["current"], gate["replaced_at"]) == ("cam-012", "gate", True, None)
    assert gate["taken_at"] == "2024-06-11T06:03:22+00:00"
    assert ReferenceStore(xiuhua.store).verify(gate["image_path"], gate["sha256"])
    assert (street_reference["camera"], street_reference["preset"]) == ("van-3", None)
    assert (street_reference["lat"], street_reference["lon"], street_reference["heading_deg"]) == (*STREET, 90.0)
    only_van = json.loads(xiuhua("references", "list", "van-3", "--json"))
    assert only_van == {"items": [street_reference], "count": 1}


def test_capture_refuses_to_replace_unless_asked_and_history_keeps_the_old_one(xiuhua: Xiuhua, tmp_path: Path) -> None:
    xiuhua("cameras", "add", "cam-1", "--kind", "fixed")
    before = textured_photo(tmp_path / "before.png", seed=1)
    after = textured_photo(tmp_path / "after.png", seed=2)
    first = json.loads(
        xiuhua("references", "capture", "cam-1", before, "--taken-at", "2026-01-01T08:00:00+08:00", "--json")
    )

    refused = xiuhua("references", "capture", "cam-1", after, code=2)
    replaced = json.loads(
        xiuhua(
            "references",
            "capture",
            "cam-1",
            after,
            "--taken-at",
            "2026-04-01T08:00",
            "--tz",
            "Asia/Shanghai",
            "--replace",
            "--json",
        )
    )

    assert refused.startswith("error: ") and "--replace" in refused
    assert replaced["replaced"] == [first["reference"]["id"]]
    assert replaced["reference"]["taken_at"] == "2026-04-01T00:00:00+00:00"
    current = json.loads(xiuhua("references", "list", "cam-1", "--json"))
    history = json.loads(xiuhua("references", "list", "cam-1", "--history", "--json"))
    assert [item["id"] for item in current["items"]] == [replaced["reference"]["id"]]
    assert [(item["id"], item["current"]) for item in history["items"]] == [
        (replaced["reference"]["id"], True),
        (first["reference"]["id"], False),
    ]
    assert history["items"][1]["replaced_at"] is not None


def test_text_output_names_the_place(xiuhua: Xiuhua, tmp_path: Path) -> None:
    xiuhua("cameras", "add", "van-3", "--kind", "patrol")
    photo = textured_photo(tmp_path / "street.jpg", gps=STREET, heading=180.0)

    said = xiuhua("references", "capture", "van-3", photo)
    listed = xiuhua("references", "list")
    cameras = xiuhua("cameras", "list")

    assert said.startswith("reference 1 of van-3 at 31.230400,121.473700 heading 180°")
    assert "\tvan-3 at 31.230400,121.473700 heading 180°\t" in listed and "current" in listed
    assert cameras.startswith("van-3\tpatrol\t")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["references", "capture", "cam-404", "{photo}"], "error: camera: no camera 'cam-404'"),
        (["references", "capture", "van-3", "{photo}"], "error: position: camera 'van-3' is a patrol camera"),
        (["references", "capture", "cam-1", "{video}"], "grey.mp4: the picture is blank"),
        (["references", "capture", "cam-1", "{notes}"], "notes.jpg: not a readable image"),
        (["references", "capture", "cam-1", "{photo}", "--preset", "p1"], "error: preset: camera 'cam-1' is a fixed"),
        (["references", "list", "cam-404"], "error: camera: no camera 'cam-404'"),
        (["cameras", "add", "cam-1", "--kind", "fixed"], "error: key: a camera with key 'cam-1' already exists"),
        (["cameras", "add", "cam-2", "--kind", "drone"], "error: kind: 'drone' is not one of fixed, ptz, patrol"),
    ],
)
def test_bad_input_ends_with_one_error_line_and_exit_code_2(
    xiuhua: Xiuhua, tmp_path: Path, arguments: list[str], message: str
) -> None:
    xiuhua("cameras", "add", "cam-1", "--kind", "fixed")
    xiuhua("cameras", "add", "van-3", "--kind", "patrol")
    notes = tmp_path / "notes.jpg"
    notes.write_text("not a picture\n" * 10, encoding="utf-8")
    files = {
        "{photo}": str(textured_photo(tmp_path / "view.jpg")),
        "{video}": str(make_video(tmp_path / "grey.mp4", frames=3)),
        "{notes}": str(notes),
    }

    output = xiuhua(*(files.get(argument, argument) for argument in arguments), code=2)

    assert message in output
    assert "Traceback" not in output
    assert not xiuhua.store.exists() or not any(path.is_file() for path in xiuhua.store.rglob("*"))


@pytest.mark.parametrize(
    ("arguments", "hint"),
    [
        (["--heading", "90"], "--heading needs --lat and --lon"),
        (["--lat", "31.2"], "give both --lat and --lon"),
        (["--lat", "95", "--lon", "121"], "latitude 95.0 is outside"),
        (["--taken-at", "yesterday"], "is not an ISO 8601 time"),
        (["--taken-at", "2026-01-01T08:00"], "has no zone"),
        (["--tz", "Mars/Olympus"], "unknown time zone"),
    ],
)
def test_malformed_options_are_usage_errors(xiuhua: Xiuhua, tmp_path: Path, arguments: list[str], hint: str) -> None:
    photo = textured_photo(tmp_path / "view.jpg")

    output = xiuhua("references", "capture", "cam-1", photo, *arguments, code=2)

    assert hint in " ".join(output.split())

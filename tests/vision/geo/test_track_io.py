"""GPS track files: GPX, NMEA and CSV read alike; broken ones named with their line."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pynmea2
import pytest

from vision.errors import VisionError
from vision.geo import GeoError, GpsTrack, TrackError
from vision.synth.geo import TrackPoint, write_gpx

START = datetime(2024, 5, 6, 9, 30, tzinfo=UTC)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _gpx(points: list[str]) -> str:
    return "\n".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">',
            "<trk><trkseg>",
            *points,
            "</trkseg></trk></gpx>",
        ]
    )


def _trkpt(lat: object, lon: object, time: str | None, extra: str = "") -> str:
    stamp = f"<time>{time}</time>" if time is not None else ""
    return f'<trkpt lat="{lat}" lon="{lon}">{stamp}{extra}</trkpt>'


def _nmea(body: str) -> str:
    """A sentence with its checksum."""
    return f"${body}*{pynmea2.NMEASentence.checksum(body):02X}"


def test_gpx_written_by_the_synthetic_patrol_reads_back(tmp_path: Path) -> None:
    points = [TrackPoint(START + timedelta(seconds=s), 31.0 + s * 1e-5, 121.0) for s in range(5)]
    track = GpsTrack.load(write_gpx(tmp_path / "pass_1.gpx", points, "pass 1"))
    assert len(track) == 5 and track.start == START and track.end == START + timedelta(seconds=4)
    assert track.fixes[2].lat == pytest.approx(31.00002) and track.fixes[2].time.tzinfo is not None


def test_gpx_zones_hdop_and_segments(tmp_path: Path) -> None:
    text = _gpx(
        [
            _trkpt(31.0, 121.0, "2024-05-06T17:30:00+08:00", "<hdop>2.0</hdop>"),
            "</trkseg><trkseg>",
            _trkpt(31.0001, 121.0, "2024-05-06T09:30:01Z"),
        ]
    )
    track = GpsTrack.load(_write(tmp_path, "drive.gpx", text))
    assert [f.time for f in track.fixes] == [START, START + timedelta(seconds=1)]
    assert track.fixes[0].accuracy_m == pytest.approx(10.0)  # HDOP 2 × 5 m
    assert track.fixes[1].accuracy_m is None


@pytest.mark.parametrize(
    ("points", "message", "line"),
    [
        ([_trkpt(31, 121, "2024-05-06T09:30:00Z"), _trkpt("abc", 121, "2024-05-06T09:30:01Z")], "lat='abc'", 5),
        ([_trkpt(31, 121, "2024-05-06T09:30:00Z"), _trkpt(31, 121, "yesterday")], "point 2 has no valid <time>", 5),
        ([_trkpt(31, 121, "2024-05-06T09:30:00Z"), _trkpt(95, 121, "2024-05-06T09:30:01Z")], "off the planet", 5),
        ([_trkpt(31, 121, "2024-05-06T09:30:05Z"), _trkpt(31, 121, "2024-05-06T09:30:01Z")], "times must increase", 5),
        ([_trkpt(31, 121, "2024-05-06T09:30:00Z"), _trkpt(31.1, 121, "2024-05-06T09:30:01Z")], "jumps 11", 5),
    ],
)
def test_broken_gpx_names_the_line(tmp_path: Path, points: list[str], message: str, line: int) -> None:
    path = _write(tmp_path, "bad.gpx", _gpx(points))
    with pytest.raises(TrackError, match=message) as caught:
        GpsTrack.load(path)
    assert caught.value.line == line and str(caught.value).startswith(f"{path}:{line}: ")
    assert isinstance(caught.value, GeoError) and isinstance(caught.value, VisionError)


def test_gpx_that_is_not_xml_or_has_no_points(tmp_path: Path) -> None:
    with pytest.raises(TrackError, match="not valid GPX"):
        GpsTrack.load(_write(tmp_path, "cut.gpx", '<?xml version="1.0"?>\n<gpx><trk><trkseg><trkpt lat="1"'))
    with pytest.raises(TrackError, match=r"empty\.gpx: no GPS fixes"):
        GpsTrack.load(_write(tmp_path, "empty.gpx", _gpx([])))
    with pytest.raises(TrackError, match="at least two fixes, found 1"):
        GpsTrack.load(_write(tmp_path, "one.gpx", _gpx([_trkpt(31, 121, "2024-05-06T09:30:00Z")])))


NMEA = "\n".join(
    [
        _nmea("GPGSV,3,1,11,03,03,111,00,04,15,270,00,06,01,010,00,13,06,292,00"),
        _nmea("GPRMC,093000.00,V,,,,,,,060524,,,N"),  # no fix yet: skipped
        _nmea("GPGGA,093000.00,3112.0000,N,12128.0000,E,1,08,1.2,5.0,M,0.0,M,,"),
        _nmea("GPRMC,093000.00,A,3112.0000,N,12128.0000,E,10.0,90.0,060524,,,A"),
        _nmea("GPGGA,093001.00,3112.0000,N,12128.0030,E,1,08,0.8,5.0,M,0.0,M,,"),
        _nmea("GPRMC,093001.00,A,3112.0000,N,12128.0030,E,10.0,90.0,060524,,,A"),
        "",
        _nmea("GPRMC,093002.00,A,3112.0000,N,12128.0060,E,10.0,91.0,060524,,,A"),
    ]
)


def test_nmea_merges_rmc_and_gga_per_epoch(tmp_path: Path) -> None:
    track = GpsTrack.load(_write(tmp_path, "drive.nmea", NMEA))
    assert [f.time for f in track.fixes] == [START + timedelta(seconds=s) for s in range(3)]
    first = track.fixes[0]
    assert first.lat == pytest.approx(31.2) and first.lon == pytest.approx(121 + 28 / 60)
    assert first.speed_mps == pytest.approx(5.144, abs=1e-3)  # 10 knots
    assert first.heading_deg == 90.0 and first.accuracy_m == pytest.approx(6.0)  # from GGA's HDOP
    assert track.fixes[2].accuracy_m is None  # RMC only


def test_nmea_gga_only_needs_a_date_and_rolls_over_midnight(tmp_path: Path) -> None:
    text = "\n".join(
        [
            _nmea("GPGGA,235959.00,3112.0000,N,12128.0000,E,1,08,1.0,5.0,M,0.0,M,,"),
            _nmea("GPGGA,000000.00,3112.0000,N,12128.0010,E,1,08,1.0,5.0,M,0.0,M,,"),
        ]
    )
    path = _write(tmp_path, "gga.log", text)
    with pytest.raises(TrackError, match="carry no date"):
        GpsTrack.load(path)
    track = GpsTrack.load(path, nmea_date=date(2024, 5, 6))
    assert track.end == datetime(2024, 5, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("$GPRMC,093003.00,A,3112.0000,N,12128.0090,E,10.0,90.0,060524,,,A*00", "checksum does not match"),
        ("$GPRMC,garbage", "RMC sentence without a valid time"),
        ("$GPRMC,093003.00,A,31xx.0000,N,12128.0090,E,10.0,90.0,060524,,,A", "malformed RMC sentence"),
        ("$GP", "malformed NMEA sentence"),
        ("hello there", "not an NMEA sentence"),
        (_nmea("GPRMC,093003.00,A,9512.0000,N,12128.0090,E,10.0,90.0,060524,,,A"), "off the planet"),
        (_nmea("GPRMC,092900.00,A,3112.0000,N,12128.0090,E,10.0,90.0,060524,,,A"), "times must increase"),
    ],
)
def test_broken_nmea_names_the_line(tmp_path: Path, bad: str, message: str) -> None:
    path = _write(tmp_path, "bad.nmea", NMEA + "\n" + bad + "\n")
    with pytest.raises(TrackError, match=message) as caught:
        GpsTrack.load(path)
    assert caught.value.line == 9 and f"{path}:9:" in str(caught.value)


def test_csv_with_the_usual_columns(tmp_path: Path) -> None:
    text = (
        "Timestamp;Latitude;Longitude;Speed (km/h);Course;HDOP\n"
        "2024-05-06T09:30:00Z;0;0;;;\n"  # a logger's "no fix yet" row
        "2024-05-06T09:30:00Z;31.2;121.4;36;90;1.0\n"
        "\n"
        "2024-05-06 17:30:01+08:00;31.2;121.4001;36;;\n"
    )
    track = GpsTrack.load(_write(tmp_path, "log.txt", text))  # content, not the extension, says CSV
    assert [f.time for f in track.fixes] == [START, START + timedelta(seconds=1)]
    assert track.fixes[0].speed_mps == pytest.approx(10.0) and track.fixes[0].heading_deg == 90.0
    assert track.fixes[0].accuracy_m == pytest.approx(5.0) and track.fixes[1].heading_deg is None


def test_csv_epoch_seconds_and_naive_times(tmp_path: Path) -> None:
    epoch = _write(tmp_path, "epoch.csv", f"time,lat,lng,speed\n{START.timestamp()},31.2,121.4,2.5\n"
                   f"{START.timestamp() + 1.5},31.2,121.40002,\n")  # fmt: skip
    track = GpsTrack.load(epoch)
    assert track.start == START and track.fixes[0].speed_mps == 2.5
    naive = _write(
        tmp_path, "naive.csv", "time,lat,lon\n2024-05-06 17:30:00,31.2,121.4\n2024-05-06 17:30:01,31.2,121.4\n"
    )
    beijing = timezone(timedelta(hours=8))
    assert GpsTrack.load(naive, naive_tz=beijing).start == START
    assert GpsTrack.load(naive).start == START + timedelta(hours=8)  # naive times are UTC by default


@pytest.mark.parametrize(
    ("rows", "message", "line"),
    [
        ("time,lat\n", r"no lon column .* \(accepted: lon, lng, long, longitude\)", 1),
        ("time,lat,lon\n2024-05-06T09:30:00Z,31.2,east\n", "lon 'east' is not a number", 2),
        ("time,lat,lon\n2024-05-06T09:30:00Z,31.2,121.4\nnoon,31.2,121.4\n", "time 'noon' is neither", 3),
        ("time,lat,lon\n2024-05-06T09:30:00Z,31.2,121.4\n,31.2,121.4\n", "a row without a time", 3),
        ("time,lat,lon\n2024-05-06T09:30:00Z,31.2,121.4\n2024-05-06T09:30:01Z,31.2,\n", "without latitude or", 3),
        ("time,lat,lon\n2024-05-06T09:30:00Z,31.2,121.4\n2024-05-06T09:30:01Z,31.2,191.4\n", "off the planet", 3),
        ("time,lat,lon\n2024-05-06T09:30:00Z,31.2,121.4\n2024-05-06T09:30:01Z,31.2,nan\n", "not a finite", 3),
    ],
)
def test_broken_csv_names_the_line(tmp_path: Path, rows: str, message: str, line: int) -> None:
    path = _write(tmp_path, "bad.csv", rows)
    with pytest.raises(TrackError, match=message) as caught:
        GpsTrack.load(path)
    assert caught.value.line == line


def test_files_that_are_no_track_at_all(tmp_path: Path) -> None:
    with pytest.raises(TrackError, match="cannot read the file"):
        GpsTrack.load(tmp_path / "missing.gpx")
    with pytest.raises(TrackError, match="empty"):
        GpsTrack.load(_write(tmp_path, "blank.nmea", "\n  \n"))
    with pytest.raises(TrackError, match="not a GPS track"):
        GpsTrack.load(_write(tmp_path, "notes.txt", "remember the milk\n"))
    binary = tmp_path / "video.mp4"
    binary.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    with pytest.raises(TrackError, match="binary file"):
        GpsTrack.load(binary)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("time,lat,lon\n2024-05-06T09:30:00Z,31.2,121.4 \xe9\n".encode("latin-1"))
    with pytest.raises(TrackError, match="not UTF-8"):
        GpsTrack.load(latin)
    with pytest.raises(TrackError, match=r"no time column"):
        GpsTrack.load(_write(tmp_path, "wrong.csv", "when,lat,lon\n1,2,3\n"))


def test_format_can_be_forced(tmp_path: Path) -> None:
    path = _write(tmp_path, "drive.dat", NMEA)
    assert len(GpsTrack.load(path, format="nmea")) == 3
    with pytest.raises(TrackError, match="no time column"):
        GpsTrack.load(path, format="csv")
    with pytest.raises(ValueError, match="format must be one of"):
        GpsTrack.load(path, format="kml")

"""The batch search stays an index range scan per box on both databases (a hash join on the type took seconds)."""

from __future__ import annotations

import random

from factories.observations import T0, place
from sqlalchemy import Engine, insert, text

from service.violations import queries
from service.violations.dedup import SearchBox

INDEX = "ix_candidates_type_status_lat_lon"


def _fill(engine: Engine, count: int) -> list[tuple[float, float]]:
    rng = random.Random(1)
    places = [place(rng.uniform(0, 20_000), rng.uniform(0, 20_000)) for _ in range(count)]
    rows = [
        {
            "violation_type": rng.choice(["street_occupation", "illegal_advertising"]),
            "event_code": "0501",
            "class_name": "vendor_stall",
            "status": rng.choice(["open", "open", "rejected", "confirmed", "merged"]),
            "lat": lat,
            "lon": lon,
            "first_seen": T0,
            "last_seen": T0,
        }
        for lat, lon in places
    ]
    with engine.begin() as connection:
        connection.execute(insert(queries.CANDIDATES), rows)
        connection.execute(text("ANALYZE"))
    return places


def test_the_batch_search_uses_the_bounding_box_index(engine: Engine) -> None:
    places = _fill(engine, 5000)
    boxes = [("street_occupation", SearchBox.around(lat, lon, 50.0)) for lat, lon in places[:200]]
    dialect = engine.dialect.name
    explain = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
    with engine.connect() as connection:
        plan = [
            " ".join(str(part) for part in row)
            for row in connection.execute(
                text(explain + queries.NEAR_SQL[dialect]),
                {"boxes": queries.boxes_json(boxes), "since": "2026-04-30 08:00:00.000000"},
            )
        ]
    text_plan = "\n".join(plan)
    assert INDEX in text_plan, text_plan
    assert "Hash Join" not in text_plan, text_plan
    if dialect == "sqlite":
        assert "SCAN b" in plan[0], text_plan  # the boxes are the outer loop

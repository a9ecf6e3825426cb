"""Candidates as plain JSON objects and as a GeoJSON FeatureCollection (for the CLI now, the API later)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from service.violations.records import CandidateSummary


def candidate_json(candidate: CandidateSummary) -> dict[str, Any]:
    """One candidate as a JSON-ready object; times are ISO-8601 in UTC."""
    return {
        "id": candidate.id,
        "violation_type": candidate.violation_type,
        "event_code": candidate.event_code,
        "class": candidate.class_name,
        "status": candidate.status,
        "lat": candidate.lat,
        "lon": candidate.lon,
        "accuracy_m": candidate.accuracy_m,
        "first_seen": candidate.first_seen.isoformat(),
        "last_seen": candidate.last_seen.isoformat(),
        "sightings": candidate.sightings,
        "score": candidate.score,
        "evidence": [
            {"kind": record.kind, "path": record.path, "sha256": record.sha256, "taken_at": record.taken_at.isoformat()}
            for record in candidate.evidence
        ],
    }


def feature_collection(candidates: Iterable[CandidateSummary]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection: one Point ``[lon, lat]`` per candidate, the other fields as properties."""
    features = []
    for candidate in candidates:
        properties = candidate_json(candidate)
        del properties["lat"], properties["lon"]
        features.append(
            {
                "type": "Feature",
                "id": candidate.id,
                "geometry": {"type": "Point", "coordinates": [candidate.lon, candidate.lat]},
                "properties": properties,
            }
        )
    return {"type": "FeatureCollection", "features": features}

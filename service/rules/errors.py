"""The error every rules loader raises: it names the file and the field (or line) at fault."""

from __future__ import annotations

from service.errors import FileFieldError


class RulesError(FileFieldError):
    """A rules, zones or permits file is missing, malformed or refers to something unknown.

    The message reads ``FILE: FIELD: REASON``, e.g.
    ``zones.geojson: features[2].properties.hours[0]: '25:00-02:00' is not a time window (HH:MM-HH:MM)``.

    Attributes:
        path: The file at fault.
        field: Where in the file: a dotted field path with list indices, or ``line N: column`` for CSV.
        reason: What is wrong, in words.
    """

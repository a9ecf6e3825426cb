"""The queue filter of the review pages: read from a query string or a form, carried from page to page.

The queue page's filter form is a GET, so the filter lives in the URL; the item page and its forms carry it on
(the forms in a hidden ``q`` field) so that "claim next" after a decision stays within the reviewer's filter.
Times are typed in the display zone (``datetime-local`` inputs have no zone).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode

from service.api.pages.rendering import DISPLAY_ZONE
from service.errors import Invalid
from service.posting.payload import default_taxonomy
from service.review import QueueFilter
from service.review.queue import ORDERS
from vision.taxonomy import CONTEXT

MAX_VALUES = 50  # per repeated parameter, as the API allows
TIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")


@dataclass(frozen=True)
class QueueQuery:
    """What the reviewer filters the queue by, as typed.

    Attributes:
        violation_types: Violation type keys (empty: all).
        class_names: Detector classes (empty: all).
        camera_ids: Camera ids (empty: all).
        seen_after: Local time text (``YYYY-MM-DDTHH:MM``); only items last seen at or after it.
        seen_before: Local time text; only items first seen before it.
        order: ``oldest``, ``newest`` or ``score``.
    """

    violation_types: tuple[str, ...] = ()
    class_names: tuple[str, ...] = ()
    camera_ids: tuple[int, ...] = ()
    seen_after: str = ""
    seen_before: str = ""
    order: str = "oldest"

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> QueueQuery:
        """Read the filter from query or form pairs; other keys are ignored, empty values mean "any".

        Raises:
            Invalid: An unknown violation type, class or order, a camera id that is not a number, a time that is
                not ``YYYY-MM-DDTHH:MM``, or too many values; the field is named.
        """
        values: dict[str, list[str]] = {}
        for key, value in pairs:
            if value.strip():
                values.setdefault(key, []).append(value.strip())
        for key, items in values.items():
            if len(items) > MAX_VALUES:
                raise Invalid(f"{len(items)} values, at most {MAX_VALUES}", field=key)
        query = cls(
            violation_types=_known(values.get("violation_type", []), "violation_type", _violation_types()),
            class_names=_known(values.get("class_name", []), "class_name", default_taxonomy().names),
            camera_ids=tuple(_integer(item, "camera_id") for item in values.get("camera_id", [])),
            seen_after=_last(values, "seen_after"),
            seen_before=_last(values, "seen_before"),
            order=_last(values, "order") or "oldest",
        )
        if query.order not in ORDERS:
            raise Invalid(f"{query.order!r} is not one of {', '.join(ORDERS)}", field="order")
        query.queue_filter()  # times checked here, so every page with a bad filter says so at once
        return query

    @classmethod
    def from_text(cls, text: str) -> QueueQuery:
        """Read the filter from an encoded query string (the forms' hidden ``q`` field)."""
        return cls.from_pairs(parse_qsl(text, keep_blank_values=False))

    def queue_filter(self) -> QueueFilter:
        """The review queue's filter.

        Raises:
            Invalid: A time that cannot be read (naming ``seen_after`` or ``seen_before``).
        """
        return QueueFilter(
            violation_types=self.violation_types,
            class_names=self.class_names,
            camera_ids=self.camera_ids,
            seen_after=parse_local_time(self.seen_after, "seen_after"),
            seen_before=parse_local_time(self.seen_before, "seen_before"),
            order=self.order,
        )

    def encode(self) -> str:
        """The filter as a query string (empty parts left out; ``""`` for no filter)."""
        pairs: list[tuple[str, str | int]] = [("violation_type", value) for value in self.violation_types]
        pairs += [("class_name", value) for value in self.class_names]
        pairs += [("camera_id", value) for value in self.camera_ids]
        pairs += [(key, value) for key, value in (("seen_after", self.seen_after), ("seen_before", self.seen_before))]
        pairs += [("order", self.order)] if self.order != "oldest" else []
        return urlencode([(key, value) for key, value in pairs if value != ""])

    def url(self, path: str, **extra: str | int) -> str:
        """``path`` with this filter (and ``extra`` parameters) as its query."""
        query = "&".join(part for part in (self.encode(), urlencode(extra)) if part)
        return f"{path}?{query}" if query else path

    @property
    def active(self) -> bool:
        """Whether anything is filtered (the order aside)."""
        return bool(self.violation_types or self.class_names or self.camera_ids or self.seen_after or self.seen_before)


def parse_local_time(text: str, field: str) -> datetime | None:
    """A time typed in the display zone as an aware datetime (``None`` for empty).

    Raises:
        Invalid: Not ``YYYY-MM-DDTHH:MM`` (seconds or a date alone are accepted too), naming ``field``.
    """
    if not text:
        return None
    for time_format in TIME_FORMATS:
        try:
            return datetime.strptime(text, time_format).replace(tzinfo=DISPLAY_ZONE)
        except ValueError:
            continue
    raise Invalid(f"{text[:40]!r} is not a time like 2026-05-01T08:30", field=field)


def _violation_types() -> tuple[str, ...]:
    return tuple(key for key in default_taxonomy().violation_types if key != CONTEXT)


def _known(items: list[str], field: str, known: tuple[str, ...]) -> tuple[str, ...]:
    for item in items:
        if item not in known:
            raise Invalid(f"{item[:64]!r} is not one of {', '.join(known)}", field=field)
    return tuple(dict.fromkeys(items))


def _integer(text: str, field: str) -> int:
    if not text.isdigit() or len(text) > 12:
        raise Invalid(f"{text[:40]!r} is not an id", field=field)
    return int(text)


def _last(values: dict[str, list[str]], key: str) -> str:
    items = values.get(key)
    return items[-1] if items else ""

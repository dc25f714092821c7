"""Events of a kind this reader does not know yet (a newer worker's `recovering`, say), kept for the log.

`parse_event` drops unknown kinds so that summaries stay simple; a dashboard wants to show them anyway,
as generic lines, so a new event type appears in the TUI before anyone teaches it the kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tuiapp.core.runs.event_fields import field_checks, free_form
from tuiapp.core.runs.events import EVENT_TYPES, Event, parse_event
from tuiapp.core.runs.follow import EventFollower


@dataclass(frozen=True)
class OtherEvent:
    """An event line whose kind `parse_event` does not know: its kind, time and every other field."""

    kind: str
    time: float
    fields: dict[str, Any] = field(default_factory=dict)


AnyEvent = Event | OtherEvent


def parse_any_event(data: Any) -> AnyEvent | None:
    """Like `parse_event`, but an object with an unknown `event` kind becomes an OtherEvent."""
    event = parse_event(data)
    if event is not None or not isinstance(data, dict):
        return event
    kind = data.get("event")
    if not isinstance(kind, str) or not kind or kind in EVENT_TYPES:  # a known kind that is malformed
        return None
    stamp = data.get("time")
    rest = {k: v for k, v in data.items() if k not in ("event", "time")}
    if not free_form(kind) or not free_form(rest):  # bounded and printable, as every known kind's fields are
        return None
    return OtherEvent(kind, float(stamp) if _TIME_CHECK(stamp) else 0.0, rest)


_TIME_CHECK = field_checks(Event)["time"]


class LenientFollower(EventFollower):
    """An EventFollower that keeps unknown kinds as OtherEvent instead of skipping them."""

    parse = staticmethod(parse_any_event)

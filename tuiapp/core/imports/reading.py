"""What an import has read so far: our values by dotted path, the tool's key each came from, and the report
lines (mapped, as ftwizard does it already, not mapped and why)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuiapp.core.config.errors import dotted, redact, short_value
from tuiapp.core.config.locations import line_of

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig
    from tuiapp.core.config.yaml_reader import KeyLines
    from tuiapp.core.export.key_table import Key

Loc = tuple[str | int, ...]
MAX_OTHER_ENTRIES = 20  # further dataset entries listed one by one; the rest counted
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()  # a key the file does not have


# The fields every tool's own reader sets from the model and the first dataset entry
READER_COVERS = frozenset({"model.name_or_path", "dataset.source", "dataset.split", "dataset.config_name"})


@dataclass(frozen=True)
class Tool:
    """One tool an import reads: its keys (the exporter's tables), the fields its own reader sets beyond them
    (`covers`), that reader (model, task, dataset), and its exporter's values for a config."""

    name: str
    label: str
    model_key: str
    keys: tuple[Key, ...]
    covers: frozenset[str]
    read: Callable[[Reading], None]
    export: Callable[[FTConfig, Path, str | None], dict[str, Any]]


def printable(text: str) -> str:
    """`text` safe on one line of a terminal or a YAML comment (control characters escaped)."""
    return text if text.isprintable() else repr(text)[1:-1]


def shown(value: Any) -> str:
    """A value as a report shows it: YAML's words for true/false/null, short, no token, one printable line."""
    if value is True or value is False:
        return str(value).lower()
    if value is None:
        return "null"
    if isinstance(value, str) and 0 < len(value) <= 80 and value.isprintable() and value.strip() == value:
        return redact(value)
    return printable(redact(short_value(value)))


def same(given: Any, written: Any) -> bool:
    """Whether the file's value is what an export writes; a key the export leaves out matches a file's off value
    (false, null, 0) or its absence."""
    if written is MISSING:
        return given is MISSING or not given
    if given is MISSING:
        return not written
    return given == written and isinstance(given, bool) == isinstance(written, bool)


@dataclass
class Reading:
    """The file's data and where its keys are, and what has been read from it."""

    source: Path
    data: dict[str, Any]
    lines: KeyLines
    label: str
    values: dict[str, Any] = field(default_factory=dict)
    origin: dict[str, Loc] = field(default_factory=dict)
    mapped: dict[str, str] = field(default_factory=dict)  # our dotted path -> its line
    agreed: list[str] = field(default_factory=list)
    not_mapped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    consumed: set[str] = field(default_factory=set)

    @property
    def folder(self) -> Path:
        return self.source.parent

    def at(self, loc: Loc) -> Any:
        """The file's value at `loc`, or MISSING."""
        value: Any = self.data
        for part in loc:
            inside = isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)
            if not (inside or (isinstance(value, dict) and isinstance(part, str) and part in value)):
                return MISSING
            value = value[part]
        return value

    def line(self, loc: Loc) -> int | None:
        return line_of(self.lines, loc) if loc else None

    def consume(self, loc: Loc) -> None:
        if loc and isinstance(loc[0], str):
            self.consumed.add(loc[0])

    def put(self, ours: str, value: Any, loc: Loc, said: str | None = None) -> None:
        """Set our `ours` to `value`, read at `loc` (`said`: how the left side reads, when not `key = value`). A
        field already set keeps its value: a second key that agrees is noted as such, one that differs is listed."""
        self.consume(loc)
        given = self.at(loc)
        if ours in self.values:
            if same(value, self.values[ours]):
                self.agree(loc, given)
            else:
                first = printable(dotted(self.origin[ours])) or "the file"
                self.lose(loc, given, f"ftwizard has one {ours}: {shown(self.values[ours])}, from {first}")
            return
        self.values[ours] = value
        self.origin[ours] = loc
        left = said or f"{printable(dotted(loc))} = {shown(given)}"
        right = ours if said is None and same(value, given) else f"{ours} = {shown(value)}"
        self.mapped[ours] = f"{left} -> {right}"

    def agree(self, loc: Loc, given: Any) -> None:
        """The file says what ftwizard does anyway (an export of the imported config writes the same)."""
        self.consume(loc)
        self.agreed.append(f"{printable(dotted(loc))} = {shown(given)}")

    def lose(self, loc: Loc, given: Any, why: str, said: str | None = None) -> None:
        """A key none of our settings holds, listed with why (`said`: the key's name, when not `loc`)."""
        self.consume(loc)
        self.not_mapped.append(f"{said or printable(dotted(loc))} = {shown(given)}: {why}")

    def first_entry(self, key: str, what: str) -> dict[str, Any] | None:
        """The first of the file's `key` entries (a list of mappings; `what` says what one holds); the others
        are listed, the first MAX_OTHER_ENTRIES one by one: ftwizard trains on one dataset."""
        entries = self.data[key]
        if not isinstance(entries, list) or not entries or not isinstance(entries[0], dict):
            self.lose((key,), entries, f"not a list of dataset entries ({what})")
            return None
        for index, other in enumerate(entries[1 : MAX_OTHER_ENTRIES + 1], start=1):
            self.lose((key, index), other, "ftwizard trains on one dataset; the first is imported")
        if len(entries) > MAX_OTHER_ENTRIES + 1:
            self.lose((key,), f"{len(entries) - MAX_OTHER_ENTRIES - 1} more entries", "left out as well")
        return entries[0]

    def lose_unread(self, entry: dict[str, Any], at: Loc, read: set[str]) -> None:
        """Each key of a dataset entry not read, listed."""
        for key, value in entry.items():
            if key not in read:
                self.lose((*at, key), value, "ftwizard has no such setting for a dataset")

    def refuse(self, loc: Loc, what: str, fix: str) -> None:
        """Stop the import: `what` is wrong with the file's key at `loc` (said with the file, line and key)."""
        from tuiapp.core.user_error import UserError

        line = self.line(loc)
        where = f"{self.source}:{line}" if line else str(self.source)
        raise UserError(f"{where}: {printable(dotted(loc))} = {shown(self.at(loc))}: {what}", fix)

    def local_path(self, reference: str, loc: Loc) -> str:
        """A local path the file names, as our config names it (absolute when it is beside the file); a note
        when it is not found there (a config written for another box)."""
        from tuiapp.core.export.export_result import from_export

        path = from_export(reference, self.source)
        if not Path(path).expanduser().exists():
            self.notes.append(
                f"{printable(dotted(loc))}: {shown(reference)} is not found beside {self.source.name}; the path is "
                "kept as written (fix it before training here)"
            )
        return path

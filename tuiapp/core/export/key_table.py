"""A tool's key that holds one of our settings, said once for both directions: the exporters write each table
(`written`), and `ftwizard import` reads the same table back (tuiapp/core/imports), so a key and its value
conversion are never spelled twice."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig


class NotCarried(ValueError):
    """A value of the tool's key that none of our settings can hold; the message says why."""


class _Unset:
    """The tool's key says what our default says (off, or "the tool decides"): nothing to set."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()
_NOTHING: Any = object()  # a Key without a tool default for a missing key

# The values of our choice fields, in the order an importer prefers them when two export alike (TRL and
# LLaMA-Factory write precision auto as bf16, so a file saying bf16 means bf16).
SEARCH_ORDER: dict[str, tuple[str, ...]] = {
    "method": ("full", "lora", "qlora", "lora8"),
    "training.precision": ("bf16", "fp16", "fp32", "auto"),
}


@dataclass(frozen=True)
class Key:
    """`theirs` holds our setting `ours` (a dotted path). `out` turns our value into theirs and `back` theirs
    into ours (None: the value as it is); `omit` says which of our values the export leaves out (the tool's own
    default means the same); `absent` is, in the tool's terms, what the tool takes when its file lacks the key,
    where that differs from our default. A field whose keys have no `back` (method, precision) is read back by
    trying each of its values and keeping the one whose export matches the file (SEARCH_ORDER)."""

    theirs: str
    ours: str
    out: Callable[[Any], Any] | None = None
    back: Callable[[Any], Any] | None = None
    omit: Callable[[Any], bool] | None = None
    absent: Any = _NOTHING
    searched: bool = False

    @property
    def has_absent(self) -> bool:
        return self.absent is not _NOTHING

    def read(self, value: Any) -> Any:
        """Our value for the tool's `value` (NotCarried when none of ours holds it, UNSET when it sets nothing)."""
        return self.back(value) if self.back is not None else value


def our_value(config: FTConfig, dotted: str) -> Any:
    """The value of `dotted` ("training.max_length") in `config`."""
    value: Any = config
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


def written(config: FTConfig, keys: Iterable[Key], leave_out: Collection[str] = ()) -> dict[str, Any]:
    """The tool's values for `keys` from `config`, in table order; `leave_out` names keys not to write here."""
    values: dict[str, Any] = {}
    for key in keys:
        if key.theirs in leave_out or key.omit is _read_only:
            continue
        value = our_value(config, key.ours)
        if key.omit is not None and key.omit(value):
            continue
        values[key.theirs] = key.out(value) if key.out is not None else value
    return values


def searched(theirs: str, ours: str, out: Callable[[Any], Any], **more: Any) -> Key:
    """A key derived from a choice field (method, precision): written by `out`, read back by search."""
    return Key(theirs, ours, out=out, searched=True, **more)


# What the exporters leave out, as `omit` predicates; `_read_only` marks a key only the importer reads (a name
# the tool also accepts, such as warmup_steps beside warmup_ratio).
def is_none(value: Any) -> bool:
    return value is None


def is_falsy(value: Any) -> bool:
    return not value


def _read_only(value: Any) -> bool:
    return True


def read_only(theirs: str, ours: str, back: Callable[[Any], Any]) -> Key:
    """A key the tool reads that the export does not write (another spelling of a setting it writes)."""
    return Key(theirs, ours, back=back, omit=_read_only)


def share_or_count(value: float) -> float | int:
    """Held-out rows as every tool takes them: a share below 1, else a whole count."""
    return value if value < 1 else int(value)


def warmup_share(value: Any) -> Any:
    """A tool's warmup_steps read as ours: a float below 1 is a share of the steps (as we write it); a count
    of steps has no place in our config."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value  # validation says what is wrong with it
    if value == 0 or (isinstance(value, float) and 0 < value < 1):
        return float(value)
    raise NotCarried("ftwizard sets warmup as a share of the steps (training.warmup_ratio), not a count of steps")


def run_name_key(theirs: str, default: str) -> Key:
    """output_dir: our run name, or `default` when the config names none (and back: `default` is no name)."""
    return Key(theirs, "output.run_name", out=lambda name: name or default, back=lambda path: _run_name(path, default))


def _run_name(path: Any, default: str) -> str | None:
    from tuiapp.core.run_names import run_name_problem

    if not isinstance(path, str) or not path.strip():
        raise NotCarried("not a folder name")
    name = PurePosixPath(path.strip().replace("\\", "/")).name
    if name == default:
        return None
    problem = run_name_problem(name)
    if problem is not None:
        raise NotCarried(f"{problem}; ftwizard names the run itself")
    return name


def precision_flags(auto_as: str | None) -> tuple[Key, Key]:
    """bf16 and fp16 from our precision; `auto_as` is what auto is written as (None: Axolotl's own `auto`)."""

    def bf16(precision: str) -> bool | str:
        if precision == "auto":
            return "auto" if auto_as is None else auto_as == "bf16"
        return precision == "bf16"

    return (
        searched("bf16", "training.precision", bf16),
        searched("fp16", "training.precision", lambda precision: precision == "fp16"),
    )

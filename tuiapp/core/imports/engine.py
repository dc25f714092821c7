"""One import, in the order that makes it the exporters' inverse: the tool's own reader (model, task, dataset),
the key tables, the choice fields by search, our validation (each problem named by the tool's key and line),
then every key left over checked against an export of the result, and our defaults listed."""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from tuiapp.core.config.errors import TOKEN_PATTERN, ConfigError, dotted
from tuiapp.core.export.key_table import SEARCH_ORDER, UNSET, NotCarried, written
from tuiapp.core.imports import TOOLS
from tuiapp.core.imports.reading import MISSING, Reading, Tool, printable, same, shown
from tuiapp.core.imports.source import detect_tool, read_foreign, require_model

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig
    from tuiapp.core.export.key_table import Key

MAX_IN_HEADER = 50  # not-mapped items the written file's header lists
SECRET_KEYS = frozenset({"hub_token", "hf_token", "token", "use_auth_token", "wandb_api_key"})
NOT_REPORTED = ("schema_version", "task")  # always what the import set (sft), or fixed


@dataclass(frozen=True)
class Imported:
    """The config read from a tool's file, with what mapped, what ftwizard does the same way already, what did
    not map (and why), our settings left at their defaults, and notes (a path not found here)."""

    tool: str
    config: FTConfig
    mapped: list[str]
    agreed: list[str]
    not_mapped: list[str]
    defaults: list[str]
    notes: list[str]

    def yaml_text(self, source_name: str) -> str:
        """Our YAML, its header saying where it came from and what was left out."""
        from tuiapp.core.config import dump_config

        lines = [f"# Imported by `ftwizard import` from {printable(source_name)} (a config for {TOOLS[self.tool]})."]
        if self.not_mapped:
            lines.append("# Not mapped (left out; the import listed them too):")
            lines += [f"#  - {item}" for item in self.not_mapped[:MAX_IN_HEADER]]
            if len(self.not_mapped) > MAX_IN_HEADER:
                lines.append(f"#  ... and {len(self.not_mapped) - MAX_IN_HEADER} more")
        return "\n".join(lines) + "\n" + dump_config(self.config)


def tool_named(name: str) -> Tool:
    return importlib.import_module(f"tuiapp.core.imports.{name}").TOOL


def import_config(path: Path, tool_name: str | None = None) -> Imported:
    """Read `path` (a config for `tool_name`, or the tool its keys say) into our config; a UserError (or a
    ConfigError listing each bad value at its key) says what cannot be imported."""
    data, lines = read_foreign(path)
    name = tool_name or detect_tool(data, path)
    tool = tool_named(name)
    require_model(data, path, name, tool.model_key)
    reading = Reading(path, data, lines, tool.label)
    tool.read(reading)
    _read_keys(reading, tool.keys)
    _search(reading, tool)
    config = _validated(reading)
    fmt = reading.values.get("dataset.format")
    _check_the_rest(reading, tool.export(config, path, None if fmt in (None, "auto") else fmt))
    defaults = _defaults(reading, tool, config)
    mapped = list(reading.mapped.values())
    return Imported(name, config, mapped, reading.agreed, reading.not_mapped, defaults, reading.notes)


def _read_keys(reading: Reading, keys: tuple[Key, ...]) -> None:
    """Each key of the tables the file has, read back; then what the tool takes for a key its file lacks."""
    for key in keys:
        if key.searched or key.theirs not in reading.data:
            continue
        given = reading.data[key.theirs]
        try:
            value = key.read(given)
        except NotCarried as exc:
            reading.lose((key.theirs,), given, str(exc))
            continue
        if value is UNSET:
            reading.agree((key.theirs,), given)
        else:
            reading.put(key.ours, value, (key.theirs,))
    for key in keys:
        if key.searched or not key.has_absent or key.theirs in reading.data or key.ours in reading.values:
            continue
        value = key.read(key.absent)
        said = f"{key.theirs} not set ({reading.label} defaults it to {shown(key.absent)})"
        reading.put(key.ours, value, (), said=said)


def _search(reading: Reading, tool: Tool) -> None:
    """Each choice field written by several keys (method, precision): the value whose export matches the file's
    keys best, first on the keys the file states, then on all of them, then in SEARCH_ORDER."""
    chosen: dict[str, Any] = {}
    for ours, order in SEARCH_ORDER.items():
        deciding = [key for key in tool.keys if key.searched and key.ours == ours]
        given = {key.theirs: _given(reading, key) for key in deciding}
        if all(value is MISSING for value in given.values()):
            continue  # the file does not say: our default stays, and the report lists it
        best: tuple[tuple[int, int, int], str, dict[str, Any]] | None = None
        for rank, candidate in enumerate(order):
            config = _skeleton(chosen | {ours: candidate})
            if config is None:
                continue
            out = written(config, deciding)
            matches = [same(given[key.theirs], out.get(key.theirs, MISSING)) for key in deciding]
            stated = sum(hit for key, hit in zip(deciding, matches, strict=True) if given[key.theirs] is not MISSING)
            score = (stated, sum(matches), -rank)
            if best is None or score > best[0]:
                best = (score, candidate, out)
        if best is None:
            continue
        _, value, out = best
        chosen[ours] = value
        said = []
        for key in deciding:
            theirs, got = key.theirs, given[key.theirs]
            if got is MISSING:
                continue
            if not same(got, out.get(theirs, MISSING)):
                wrote = shown(out[theirs]) if theirs in out else "nothing"
                reading.lose((theirs,), got, f"read as {ours} {value}, for which ftwizard's export writes {wrote}")
            elif theirs in reading.data:
                reading.consume((theirs,))
                said.append(f"{theirs} = {shown(got)}")
            else:
                said.append(f"{theirs} not set ({reading.label} defaults it to {shown(got)})")
        first = next(((key.theirs,) for key in deciding if key.theirs in reading.data), ())
        reading.put(ours, value, first, said=", ".join(said) or None)


def _given(reading: Reading, key: Key) -> Any:
    """The file's value for `key`; the tool's own default where the file lacks it; else MISSING."""
    if key.theirs in reading.data:
        return reading.data[key.theirs]
    return key.absent if key.has_absent else MISSING


def _skeleton(values: dict[str, Any]) -> FTConfig | None:
    """A config with only `values` set (dotted), to see how the tables write them; None if they cannot be."""
    from tuiapp.core.config import validate_config

    try:
        return validate_config(_nested({"model.name_or_path": "org/model", **values}))
    except ConfigError:
        return None


def _nested(values: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for path, value in values.items():
        *parents, leaf = path.split(".")
        target = data
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = value
    return data


def _validated(reading: Reading) -> FTConfig:
    """Our config from what was read; each problem at the tool's key and line ("job.yml:5: lora_r: ...")."""
    from tuiapp.core.config import validate_config

    if "dataset.source" not in reading.values:
        for ours in [path for path in reading.values if path.startswith("dataset.")]:
            loc = reading.origin.pop(ours)
            reading.values.pop(ours)
            reading.mapped.pop(ours, None)
            if loc:
                reading.lose(loc, reading.at(loc), "no dataset was imported, so there is nothing to set it on")
    lines: dict[tuple[str | int, ...], int] = {}
    for ours, loc in reading.origin.items():
        line = reading.line(loc)
        if line is not None:
            parts = tuple(ours.split("."))
            lines[parts] = line
            if len(parts) > 1:
                lines.setdefault(parts[:1], line)
    source = str(reading.source)
    try:
        return validate_config(_nested(reading.values), source, lines)
    except ConfigError as exc:
        raise ConfigError([_named(reading, problem) for problem in exc.problems], source, exc.more) from None


def _named(reading: Reading, problem: str) -> str:
    """A problem our validation located at a line, with the tool's key(s) on that line named."""
    found = re.match(rf"{re.escape(str(reading.source))}:(\d+): (.*)", problem, re.DOTALL)
    if found is None:
        return problem
    line = int(found.group(1))
    keys = dict.fromkeys(printable(dotted(loc)) for loc in reading.origin.values() if loc and reading.line(loc) == line)
    return f"{reading.source}:{line}: {', '.join(keys)}: {found.group(2)}" if keys else problem


def _check_the_rest(reading: Reading, exported: dict[str, Any]) -> None:
    """Every key not read yet: what ftwizard does anyway when an export of the imported config writes the same,
    else listed with why it is left out."""
    for key, given in reading.data.items():
        if key in reading.consumed:
            continue
        if key in exported and same(given, exported[key]):
            reading.agree((key,), given)
        elif key.lower() in SECRET_KEYS or (isinstance(given, str) and TOKEN_PATTERN.search(given)):
            reading.lose((key,), given, "ftwizard never keeps a token in a config: log in on the box instead")
        elif key in exported:
            wrote = shown(exported[key])
            reading.lose((key,), given, f"ftwizard does this its own way (its export of this config writes {wrote})")
        else:
            reading.lose((key,), given, "ftwizard has no such setting")


def _defaults(reading: Reading, tool: Tool, config: FTConfig) -> list[str]:
    """Our settings the file did not give, each at its default and why (the tool has no such setting, or the
    file does not set it)."""
    from tuiapp.core.config.cross_fields import flat_values

    covered = {key.ours for key in tool.keys} | tool.covers
    out = [] if config.dataset is not None else ["dataset = null: none was imported; name one before training"]
    for path, value in flat_values(config).items():
        if isinstance(value, BaseModel) or path in NOT_REPORTED or path in reading.values or path == "dataset":
            continue
        if path.startswith("debug.") or (path.startswith("lora.") and config.method == "full"):
            continue
        why = "not in the file" if path in covered else f"{tool.label} has no setting for it"
        out.append(f"{path} = {shown(value)}: {why}")
    return out

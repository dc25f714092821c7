"""Read a config file safely and parse its YAML once into plain data plus a key -> line index.

A config is a few KB of plain settings, so the reader refuses what no config needs and what could make a
small file cost minutes or gigabytes: anything but a regular file (a FIFO would block, /dev/zero never
ends), more than MAX_CONFIG_BYTES, nesting deeper than MAX_DEPTH, anchors and aliases (an alias bomb is
1 KB that expands to billions of values; ftwizard never writes them, and an aliased value would be
reported at its anchor, not where it is used), merge keys, and tags other than YAML's plain scalars
(python tags could run code). Duplicate keys are refused at any depth, each naming both lines.
The parse is one pass over libyaml's events (the pure-Python parser where libyaml is missing), without
recursion, so its time grows with the file's size and nothing else.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import ScalarNode

from tuiapp.core.config.errors import ConfigError, dotted, short_value
from tuiapp.core.file_kinds import kind_of

MAX_CONFIG_BYTES = 1_000_000
"""The largest config file read (ftwizard writes ~4 KB)."""

MAX_DEPTH = 32
"""The deepest nesting read (a config needs 3 levels)."""

KeyLines = dict[tuple[str | int, ...], int]
"""1-based line of each key (and list item) by its path, e.g. ("lora", "target_modules", 1) -> 9."""

_TOO_DEEP = f"the settings nest deeper than {MAX_DEPTH} levels (a config needs 3): check the brackets and indentation"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PLAIN_TAGS = {f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float", "str", "timestamp", "binary")}
_COLLECTION_TAGS = {None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


@dataclass(frozen=True)
class ParsedConfig:
    """A config file's data (plain dicts, lists and scalars) and where each key is."""

    data: Any
    lines: KeyLines


def _size_text(size: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def _refuse_kind(path: Path, mode: int) -> None:
    if not stat.S_ISREG(mode):
        raise ConfigError([f"{path}: this is {kind_of(mode)}, not a config file; give the path of a .yaml file"])


def _refuse_size(path: Path, size: int) -> None:
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(
            [
                f"{path}: the file is {_size_text(size)}, far larger than a config (a few KB; at most "
                f"{_size_text(MAX_CONFIG_BYTES)} is read): check that this is the config you meant"
            ]
        )


def read_config_text(path: Path) -> str:
    """The text of a config file, checked to be a regular file of bounded size before it is read."""
    try:
        _refuse_kind(path, os.stat(path).st_mode)  # a FIFO is refused here, before open() could block
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such file; check the path or run `ftwizard` to create one"]) from None
    except PermissionError as exc:
        raise ConfigError([f"{path}: cannot read it ({exc.strerror or exc}); check its permissions"]) from None
    except OSError as exc:  # a link loop, a name too long, a folder on the way that is a file
        raise ConfigError([f"{path}: cannot read it ({exc.strerror or exc}); check the path"]) from None
    try:
        info = os.fstat(fd)  # the same checks on what was opened, in case the path changed in between
        _refuse_kind(path, info.st_mode)
        _refuse_size(path, info.st_size)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read it ({exc.strerror or exc})"]) from None
    finally:
        os.close(fd)
    _refuse_size(path, len(raw))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            [f"{path}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8"]
        ) from None


class _Refused(Exception):
    """Something the reader does not accept, at a line."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line, self.message = line, message


@dataclass
class _Frame:
    """An open mapping or list while the events are read."""

    value: dict[str, Any] | list[Any]
    loc: tuple[str | int, ...]
    first_line: dict[str, int] = field(default_factory=dict)
    key: str | None = None
    keep: bool = True


class _Builder:
    """Plain data from a stream of YAML events, with the key -> line index and duplicate keys collected."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.lines: KeyLines = {}
        self.duplicates: list[tuple[int, str]] = []
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.documents = 0

    def feed(self, event: yaml.Event) -> None:
        line = event.start_mark.line + 1 if event.start_mark else 0
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise _Refused(line, "a config is one YAML document and this file holds a second (---): keep one")
        elif isinstance(event, yaml.AliasEvent):
            raise _Refused(line, f"aliases (*{event.anchor}) are not read in a config: write the value out")
        elif isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
            if event.anchor is not None:
                raise _Refused(line, f"anchors (&{event.anchor}) are not read in a config: write the values out")
            self._node(event, line)
        elif isinstance(event, yaml.CollectionEndEvent):
            self.stack.pop()

    def _node(self, event: yaml.ScalarEvent | yaml.CollectionStartEvent, line: int) -> None:
        frame = self.stack[-1] if self.stack else None
        if isinstance(frame, _Frame) and isinstance(frame.value, dict) and frame.key is None:
            self._key(frame, event, line)
            return
        if isinstance(event, yaml.ScalarEvent):
            self._place(frame, self._scalar(event, line), line)
            return
        if len(self.stack) >= MAX_DEPTH:
            raise _Refused(line, _TOO_DEEP)
        if event.tag not in _COLLECTION_TAGS:
            raise _Refused(line, _tag_refusal(event.tag))
        value: dict[str, Any] | list[Any] = {} if isinstance(event, yaml.MappingStartEvent) else []
        loc = self._place(frame, value, line)
        self.stack.append(_Frame(value, loc or (), keep=loc is not None))

    def _place(self, frame: _Frame | None, value: Any, line: int) -> tuple[str | int, ...] | None:
        """Put `value` where the parser is (the root, a list item or a mapping's value): its path, or None
        when it is not kept (the value of a duplicate key, read only for its own mistakes)."""
        if frame is None:
            self.root = value
            return ()
        if isinstance(frame.value, list):
            loc = (*frame.loc, len(frame.value))
            frame.value.append(value)
            if frame.keep:
                self.lines[loc] = line
            return loc if frame.keep else None
        key, frame.key = frame.key, None
        if frame.keep and key is not None and key not in frame.value:
            frame.value[key] = value
            return (*frame.loc, key)
        return None

    def _key(self, frame: _Frame, event: yaml.ScalarEvent | yaml.CollectionStartEvent, line: int) -> None:
        if not isinstance(event, yaml.ScalarEvent):
            raise _Refused(line, "a key must be a plain name, not a list or mapping")
        if event.tag is None and event.implicit[0] and event.value == "<<":
            raise _Refused(line, "merge keys (<<) are not read in a config: write the settings out")
        key = event.value
        first = frame.first_line.get(key)
        if first is not None:
            path = dotted((*frame.loc, key))
            fix = "merge them into one" if isinstance(frame.value.get(key), dict) else "keep one"
            self.duplicates.append((line, f"{path} appears twice (first on line {first}): {fix}"))
        else:
            frame.first_line[key] = line
            if frame.keep:
                self.lines[(*frame.loc, key)] = line
        frame.key = key

    def _scalar(self, event: yaml.ScalarEvent, line: int) -> Any:
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(ScalarNode, event.value, event.implicit)
        if tag not in _PLAIN_TAGS:
            raise _Refused(line, _tag_refusal(tag))
        node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            return self.loader.yaml_constructors[tag](self.loader, node)
        except (ValueError, OverflowError, yaml.YAMLError) as exc:
            raise _Refused(line, _value_refusal(tag, event.value, exc)) from None


def _tag_refusal(tag: str) -> str:
    shown = tag.replace("tag:yaml.org,2002:", "!!")[:60]
    return f"the YAML tag {shown} is not read in a config (plain values only; a python tag could run code): remove it"


def _value_refusal(tag: str, value: str, exc: Exception) -> str:
    if tag.endswith(":int") and len(value) > 1000:
        return f"a {len(value)}-digit number is past what any setting takes: check the value"
    return f"cannot read {short_value(value, 40)} ({short_value(str(exc), 80)[1:-1]}); quote it to keep it as text"


def _syntax_problem(exc: yaml.YAMLError, text: str, source: str) -> str:
    mark = getattr(exc, "problem_mark", None)
    if mark is not None:
        where = f"{source}:{mark.line + 1}:{mark.column + 1}"
    elif isinstance(exc, yaml.reader.ReaderError):
        where = f"{source}:{text.count(chr(10), 0, exc.position) + 1}"
    else:
        where = source
    reason = getattr(exc, "problem", None) or getattr(exc, "reason", None) or str(exc)
    if "nesting depth" in str(reason):  # libyaml's own limit (1,000 levels) met before ours
        return f"{where}: {_TOO_DEEP}"
    if isinstance(exc, yaml.reader.ReaderError) or "control characters" in str(reason):
        return f"{where}: not valid YAML ({str(reason)[:120]}); a config is plain text: remove the character"
    at = getattr(mark, "index", -1)
    if "\t" in str(reason) or (0 <= at < len(text) and text[at] == "\t"):  # where YAML wants indentation
        return f"{where}: not valid YAML (a tab): YAML indents with spaces only; replace the tab with spaces"
    return f"{where}: not valid YAML ({str(reason)[:120]}); check the indentation and quote values with ':' or '#'"


def parse_config_yaml(text: str, source: str) -> ParsedConfig:
    """Parse YAML text once into plain data and its key -> line index; a ConfigError names every problem."""
    loader = _LOADER(text)
    builder = _Builder(loader)
    try:
        while True:
            event = loader.get_event()
            if event is None or isinstance(event, yaml.StreamEndEvent):
                break
            builder.feed(event)
    except _Refused as exc:
        raise ConfigError([f"{source}:{exc.line}: {exc.message}"], source) from None
    except yaml.YAMLError as exc:
        raise ConfigError([_syntax_problem(exc, text, source)], source) from None
    except UnicodeEncodeError as exc:  # libyaml takes UTF-8: a lone surrogate cannot be encoded
        line = text.count("\n", 0, exc.start) + 1
        problem = f"{source}:{line}: the text holds a character that is not valid Unicode (a lone surrogate): remove it"
        raise ConfigError([problem], source) from None
    finally:
        loader.dispose()
    if builder.duplicates:
        builder.duplicates.sort()
        raise ConfigError([f"{source}:{line}: {message}" for line, message in builder.duplicates], source)
    return ParsedConfig(builder.root, builder.lines)

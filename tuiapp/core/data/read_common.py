"""What every file reader shares: open for reading only, decode lines with their place, skip or stop.

Files are opened in binary mode and decoded line by line, so a bad byte is reported with its line and
byte offset instead of surfacing as a UnicodeDecodeError somewhere inside a buffered text reader.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from tuiapp.core.data.records import DataError, ReadReport

MAX_LINE_BYTES = 512 * 1024 * 1024  # one line longer than this is not a row but a wrong file
UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
SKIP_HINT = "fix or delete the row, or skip bad rows with --skip-bad (they are counted)"


@dataclass(frozen=True)
class ReadOptions:
    """How a reader treats a row it cannot use, and where it counts the ones it skips."""

    skip_bad: bool
    report: ReadReport

    def bad_row(self, where: str, reason: str) -> None:
        """Skip and count a row that cannot be used, or stop with an error that names the place."""
        if not self.skip_bad:
            raise DataError(f"{where}: {reason}; {SKIP_HINT}")
        self.report.skip(where, reason)


@dataclass(frozen=True)
class Line:
    """One physical line: its 1-based number, the byte offset where it starts, its text with its ending."""

    number: int
    offset: int
    text: str


def permission_denied(path: Path) -> DataError:
    """The error for a file or folder this user may not read."""
    return DataError(f"{path}: permission denied; make it readable (chmod u+r) or copy it somewhere you can read")


def open_binary(path: Path) -> BinaryIO:
    """Open a file read-only (through gzip for `.gz`), turning OS errors into a message with a fix."""
    try:
        if path.name.lower().endswith(".gz"):
            return gzip.open(path, "rb")  # type: ignore[return-value]
        return path.open("rb")
    except PermissionError:
        raise permission_denied(path) from None
    except FileNotFoundError:
        raise DataError(f"{path}: the file disappeared while reading; check the path") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot open it ({exc.strerror or exc})") from None


def not_utf8(raw: bytes, start: int, line_offset: int) -> str:
    """Name the first byte that is not UTF-8 (its value, byte offset and column) and how to re-encode."""
    column = len(raw[:start].decode("utf-8", "replace")) + 1
    return (
        f"byte 0x{raw[start]:02x} at byte offset {line_offset + start} (column {column}) is not UTF-8; "
        "the file was saved in another encoding: re-save it as UTF-8 "
        "(e.g. iconv -f cp1252 -t utf-8 IN > OUT, or 'Save as UTF-8' in the editor)"
    )


def _size(count: int) -> str:
    return f"{count // 2**20} MiB" if count >= 2**20 else f"{count:,} bytes"


def _read_line(stream: BinaryIO, path: Path, number: int) -> bytes:
    try:
        raw = stream.readline(MAX_LINE_BYTES + 1)
    except (OSError, EOFError, zlib.error) as exc:
        damaged = " (the gzip data is damaged or cut short)" if path.name.lower().endswith(".gz") else ""
        raise DataError(f"{path}:{number}: cannot read the file{damaged}: {exc}") from None
    if len(raw) > MAX_LINE_BYTES:
        raise DataError(
            f"{path}:{number}: this line is longer than {_size(MAX_LINE_BYTES)}; "
            "each row must be one line: is this really a JSON-lines/CSV/text file?"
        )
    return raw


def decoded_lines(path: Path, options: ReadOptions, *, skippable: bool) -> Iterator[Line]:
    """Each line of `path` decoded as UTF-8 (a leading BOM dropped), one at a time.

    A line that is not UTF-8 is skipped through `options` when `skippable`, else it stops the read.
    """
    name = str(path)
    with open_binary(path) as stream:
        number = offset = 0
        while raw := _read_line(stream, path, number + 1):
            number += 1
            if number == 1:
                if raw.startswith(UTF16_BOMS):
                    raise DataError(f"{name} is UTF-16 text; re-save it as UTF-8 (e.g. iconv -f utf-16 -t utf-8)")
                if raw.startswith(UTF8_BOM):
                    raw, offset = raw[len(UTF8_BOM) :], len(UTF8_BOM)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                reason = not_utf8(raw, exc.start, offset)
                if not skippable:
                    raise DataError(f"{name}:{number}: {reason}") from None
                options.bad_row(f"{name}:{number}", reason)
            else:
                yield Line(number, offset, text)
            offset += len(raw)

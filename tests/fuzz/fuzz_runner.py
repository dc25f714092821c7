"""Run `ftwizard ARGV` in this process as a user would, under a watchdog, and judge the outcome.

Every generated case must end in exit 0 with a correct result or exit 2 with a located message, within
CASE_S seconds, never with exit 1 or a traceback. Each outcome is tallied per input class for the summary
printed at the end of the run. With FTWIZARD_FUZZ_SURVEY=1 a broken property is recorded instead of raised,
so one run lists every distinct failure (a tool for triage; CI runs strict).
"""

from __future__ import annotations

import io
import os
import re
import signal
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

from tuiapp.cli import main

CASE_S = 5.0  # generous: the machine is noisy; a case past this is slow, not a timing benchmark
HANG_S = 10.0  # the watchdog: a case still running then is stopped and fails with its example
MAX_ERR_CHARS = 64_000  # every message has a size cap; a whole report on stderr stays below this
MAX_LINE_CHARS = 4_000  # no single message line carries a 100 KB value
TRACEBACK = "Traceback (most recent call last)"
SURVEY = os.environ.get("FTWIZARD_FUZZ_SURVEY") == "1"

TALLY: dict[str, Counter[str]] = defaultdict(Counter)


@dataclass
class Failure:
    """One broken property, with the smallest reproducer seen for its signature."""

    signature: str
    reason: str
    reproducer: str
    count: int = 1


SURVEYED: dict[str, Failure] = {}


class CaseHung(BaseException):
    """Raised by the watchdog's alarm; a BaseException so the CLI's last line of defence cannot swallow it."""


@dataclass
class Outcome:
    """What one in-process run of the CLI did."""

    argv: list[str]
    code: int | str  # an exit status, or "hung" / "raised X" when the CLI did not return
    out: str
    err: str
    seconds: float
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.out + self.err

    def describe(self) -> str:
        files = "".join(f"\n  {name}: {content}" for name, content in self.extra.items())
        argv = [word if len(word) <= 300 else f"{word[:300]}… ({len(word):,} characters)" for word in self.argv]
        return (
            f"argv: {argv!r}{files}\n  exit: {self.code} after {self.seconds:.2f} s\n"
            f"  stdout (tail): {self.out[-1500:]!r}\n  stderr (tail): {self.err[-1500:]!r}"
        )


@contextmanager
def working_dir(folder: Path) -> Iterator[None]:
    """Run a case from `folder`, so relative paths it writes or reads stay in its own folder."""
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def _on_alarm(signum: int, frame: object) -> None:
    raise CaseHung


def run_cli(argv: Sequence[str], kind: str, extra: dict[str, str] | None = None) -> Outcome:
    """`ftwizard ARGV` in-process (stdout and stderr captured), stopped by the watchdog after HANG_S."""
    out, err = io.StringIO(), io.StringIO()
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, HANG_S)
    start = time.monotonic()
    code: int | str
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(list(argv))
            except SystemExit as exc:  # argparse's usage errors and --help exit this way
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except CaseHung:
        code = "hung"
    except BaseException as exc:
        code = f"raised {type(exc).__name__}"
        err.write(traceback.format_exc())
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    outcome = Outcome(list(argv), code, out.getvalue(), err.getvalue(), time.monotonic() - start, dict(extra or {}))
    TALLY[kind][f"exit {code}" if code in (0, 2) else "other"] += 1
    return outcome


def _signature(kind: str, reason: str) -> str:
    text = re.sub(r"/tmp/\S+", "PATH", reason.splitlines()[0] if reason else "")
    return f"{kind}: {re.sub(r'[0-9]+', 'N', text)[:160]}"


def fail(kind: str, outcome: Outcome, reason: str) -> None:
    """A broken property: raise (CI), or in survey mode remember it under its signature."""
    if not SURVEY:
        raise AssertionError(f"{reason}\n{outcome.describe()}")
    signature = _signature(kind, reason)
    reproducer = outcome.describe()
    known = SURVEYED.get(signature)
    if known is None:
        SURVEYED[signature] = Failure(signature, reason, reproducer)
        return
    known.count += 1
    if len(reproducer) < len(known.reproducer):
        known.reason, known.reproducer = reason, reproducer


def check_clean(kind: str, outcome: Outcome) -> bool:
    """Exit 0 or 2, in time, no traceback, bounded messages; False (after `fail`) when not."""
    problems = []
    if outcome.code not in (0, 2):
        problems.append(f"exit {outcome.code} (only 0 or 2 are allowed)")
    if TRACEBACK in outcome.text:
        problems.append("a traceback reached the console")
    if outcome.seconds > CASE_S:
        problems.append(f"took {outcome.seconds:.1f} s (bound {CASE_S:.0f} s)")
    if len(outcome.err) > MAX_ERR_CHARS:
        problems.append(f"stderr is {len(outcome.err):,} characters (cap {MAX_ERR_CHARS:,})")
    elif any(len(line) > MAX_LINE_CHARS for line in outcome.err.splitlines()):
        problems.append(f"a stderr line is longer than {MAX_LINE_CHARS:,} characters")
    for problem in problems:
        fail(kind, outcome, problem)
    return not problems


def expect_exit(kind: str, outcome: Outcome, allowed: tuple[int, ...], why: str) -> bool:
    """The exit code is one of `allowed` (after the clean checks passed)."""
    if outcome.code in allowed:
        return True
    fail(kind, outcome, f"expected exit {' or '.join(map(str, allowed))} ({why}), got {outcome.code}")
    return False


def expect_located(kind: str, outcome: Outcome, anchors: Sequence[str], what: str) -> bool:
    """Exit 2's message names at least one of `anchors` (a file:line, an option, a value)."""
    if any(anchor and anchor in outcome.err for anchor in anchors):
        return True
    shown = ", ".join(repr(a[:60]) for a in list(anchors)[:4])
    fail(kind, outcome, f"exit 2 without a located message for {what} (expected one of {shown} in stderr)")
    return False


def expect_true(kind: str, outcome: Outcome, condition: bool, reason: str) -> bool:
    if not condition:
        fail(kind, outcome, reason)
    return condition


def summary_lines() -> list[str]:
    """The counts per input class and outcome, and in survey mode the distinct failures."""
    lines = []
    for kind in sorted(TALLY):
        counts = TALLY[kind]
        parts = ", ".join(f"{name}: {counts[name]}" for name in ("exit 0", "exit 2", "other"))
        lines.append(f"{kind}: {sum(counts.values())} cases ({parts})")
    if SURVEY and SURVEYED:
        lines.append(f"{len(SURVEYED)} distinct failures (survey mode):")
        for failure in sorted(SURVEYED.values(), key=lambda f: f.signature):
            lines.append(f"- [{failure.count}x] {failure.reason.splitlines()[0]}\n  {failure.reproducer}")
    return lines

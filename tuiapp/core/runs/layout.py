"""Where runs live and what one run directory holds.

```
RUNS_ROOT/NAME/
  config.yaml     the resolved config the worker runs (absolute data and model paths)
  events.jsonl    metrics and lifecycle events, one JSON object a line
  status.json     the worker's pid (and when it was launched)
  worker.log      the worker's stdout and stderr
  checkpoints/    checkpoint-STEP folders (the trainer's output_dir)
  final/          the trained adapter (LoRA methods) or model, with the tokenizer
  merged/         the adapter merged into a 16-bit base (ftwizard merge), with the tokenizer
  gguf/           MODEL-QUANT.gguf and an Ollama Modelfile (ftwizard gguf)
  actions.log     the output of the Finish screen's actions (merge, GGUF, push)
  .action.lock    held by the action running (one at a time), with its name and pid
```
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from tuiapp.core.run_names import MAX_RUN_NAME, NAME_RULE, run_name_problem
from tuiapp.core.runs.checkpoint_check import checkpoint_problem
from tuiapp.core.user_error import UserError
from tuiapp.core.user_paths import user_path

RUNS_DIR_ENV = "FTWIZARD_RUNS_DIR"


@dataclass(frozen=True)
class RunPaths:
    """The files of one run, by what they are."""

    root: Path

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"

    @property
    def events(self) -> Path:
        return self.root / "events.jsonl"

    @property
    def status(self) -> Path:
        return self.root / "status.json"

    @property
    def log(self) -> Path:
        return self.root / "worker.log"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def final(self) -> Path:
        return self.root / "final"

    @property
    def merged(self) -> Path:
        return self.root / "merged"

    @property
    def gguf(self) -> Path:
        return self.root / "gguf"

    @property
    def actions_log(self) -> Path:
        return self.root / "actions.log"

    def last_checkpoint(self) -> Path | None:
        """The checkpoint with the highest step that is complete (see checkpoint_check): one cut short by a
        crash or a full disk is passed over, so resume continues from the newest one that loads."""
        found = []
        for folder in self.checkpoints.glob("checkpoint-*"):
            step = folder.name.removeprefix("checkpoint-")
            if step.isdigit() and step.isascii():
                found.append((int(step), folder))
        for _, folder in sorted(found, reverse=True):
            if checkpoint_problem(folder) is None:
                return folder
        return None


def default_runs_root() -> Path:
    """$FTWIZARD_RUNS_DIR, else $XDG_DATA_HOME/ftwizard/runs, else ~/.local/share/ftwizard/runs."""
    if os.environ.get(RUNS_DIR_ENV):
        return user_path(os.environ[RUNS_DIR_ENV])
    data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data) / "ftwizard" / "runs"


def resolve_runs_root(override: str | None = None, configured: str | None = None) -> Path:
    """The runs root: a command-line override, else the config's output.runs_root, else the default."""
    chosen = override or configured
    try:
        return user_path(chosen).resolve() if chosen else default_runs_root().resolve()
    except UserError as exc:
        given = "--runs-dir" if override else "output.runs_root"
        raise UserError(f"the runs folder ({given}): {exc.what}", exc.fix) from None


def check_run_name(name: str) -> str:
    """The name, when it can name a run directory that every command reaches again (`resume NAME`, `stop NAME`);
    the rule is tuiapp.core.run_names'."""
    problem = run_name_problem(name)
    if problem is None:
        return name
    if len(name) > MAX_RUN_NAME:
        raise UserError(problem, "set a shorter output.run_name, or leave it empty to have one made from the model")
    raise UserError(problem, NAME_RULE)


def run_name_for(model: str, method: str, now: float | None = None) -> str:
    """A readable, sortable name such as `Qwen2.5-0.5B-lora-20250101-120000` (the model's part shortened so the
    name fits MAX_RUN_NAME)."""
    stamp = f"-{method}-{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}"
    base = re.sub(r"[^\w.-]+", "-", Path(model.rstrip("/")).name).strip("-._")
    if not (base[:1].isascii() and base[:1].isalnum()):  # empty, or `été-7b`: the name must start with one
        base = f"model-{base}".rstrip("-")
    base = base[: MAX_RUN_NAME - len(stamp)].rstrip("-.")
    return f"{base}{stamp}"


def create_run_dir(root: Path, name: str, exact: bool) -> RunPaths:
    """Make a new, empty, private run directory (see PRIVATE_DIR_MODE). With `exact`, an existing name is an
    error; else `-2`, `-3`... is added. A runs root that cannot hold it is a UserError saying where and why."""
    check_run_name(name)
    _make_runs_root(root)
    for attempt in range(1, 1000):
        candidate = root / (name if attempt == 1 else f"{name}-{attempt}")
        try:
            candidate.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:
            if exact:
                raise UserError(
                    f"a run named {name} already exists in {root}: continue it with `ftwizard resume {name}`, "
                    "or set output.run_name to a new name"
                ) from None
            continue
        except OSError as exc:
            raise _root_error(root, exc) from None
        make_private(candidate)
        return RunPaths(candidate)
    raise UserError(f"{root} already holds runs named {name}-2 to {name}-999; pick another output.run_name")


PRIVATE_DIR_MODE = 0o700
"""File-mode policy: a run directory is private to its owner (0700) and that one gate covers everything in it.
Its config names private model and data paths, its events the machine and the library versions, its adapter is
the user's work. The files inside keep the modes their writers give (the umask's, or 0600 where a library
writes through a temp file): in a 0700 folder a file's own bits grant nobody else anything, and the gate holds
for files that torch, safetensors and tokenizers write, which no code of ours could chmod one by one. Sharing a
run is one command on one folder (chmod, or a copy). The runs root keeps the umask's mode: it only lists names."""


def make_private(folder: Path) -> None:
    """Apply the policy to a run directory (a new one, or an older one made before it, on resume)."""
    with contextlib.suppress(OSError):  # not ours (a shared runs root): leave it as it is
        os.chmod(folder, PRIVATE_DIR_MODE)


def _make_runs_root(root: Path) -> None:
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _root_error(root, exc) from None
    if not root.is_dir():
        raise _root_error(root, NotADirectoryError(20, "Not a directory"))


def _root_error(root: Path, exc: OSError) -> UserError:
    """What went wrong making a run directory in `root`, and what to do."""
    where = f"the runs folder {root}"
    if isinstance(exc, FileExistsError | NotADirectoryError):
        return UserError(f"{where} (or a folder above it) is a file, not a folder", _ELSEWHERE)
    if isinstance(exc, PermissionError) or exc.errno == errno.EROFS:
        return UserError(f"cannot create a run in {where}: {exc.strerror or exc}", f"make it writable, or {_ELSEWHERE}")
    return UserError(f"cannot create a run in {where}: {exc.strerror or exc}", _ELSEWHERE)


_ELSEWHERE = f"choose another one with --runs-dir DIR, ${RUNS_DIR_ENV} or output.runs_root"


def find_run(name_or_path: str, root: Path) -> RunPaths:
    """A run by its name under `root`, or by the path of its directory."""
    if not name_or_path.strip():
        raise UserError("the run name is empty", "give a run's name or folder: `ftwizard runs` lists them")
    # a path as typed (from the current folder), or a NAME in the root: `../x` never leaves the root that way
    by_name = [root / name_or_path] if run_name_problem(name_or_path) is None else []
    for candidate in (name_or_path, *map(str, by_name)):
        try:  # a run whose config is damaged is still found: what it is, `runs`, `resume` and `attach` say
            folder = user_path(candidate)
            if any((folder / name).is_file() for name in ("config.yaml", "events.jsonl")):
                return RunPaths(folder.resolve())
        except (OSError, ValueError):  # a folder we may not enter, a name the file system refuses (NUL, ~nobody)
            continue
    raise UserError(
        f"no run named {_shown(name_or_path)} in {root}: `ftwizard runs` lists them "
        f"(another runs folder: --runs-dir DIR or ${RUNS_DIR_ENV})"
    )


def _shown(name: str) -> str:
    """A name typed by someone, as a message shows it: cut to MAX_RUN_NAME, control characters escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in name[:MAX_RUN_NAME])

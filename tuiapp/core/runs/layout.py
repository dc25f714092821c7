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

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from tuiapp.core.user_error import UserError

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
        """The checkpoint with the highest step that has its trainer state written (a complete one)."""
        found = []
        for folder in self.checkpoints.glob("checkpoint-*"):
            step = folder.name.removeprefix("checkpoint-")
            if step.isdigit() and (folder / "trainer_state.json").is_file():
                found.append((int(step), folder))
        return max(found)[1] if found else None


def default_runs_root() -> Path:
    """$FTWIZARD_RUNS_DIR, else $XDG_DATA_HOME/ftwizard/runs, else ~/.local/share/ftwizard/runs."""
    if os.environ.get(RUNS_DIR_ENV):
        return Path(os.environ[RUNS_DIR_ENV]).expanduser()
    data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data) / "ftwizard" / "runs"


def resolve_runs_root(override: str | None = None, configured: str | None = None) -> Path:
    """The runs root: a command-line override, else the config's output.runs_root, else the default."""
    chosen = override or configured
    return Path(chosen).expanduser().resolve() if chosen else default_runs_root().resolve()


def run_name_for(model: str, method: str, now: float | None = None) -> str:
    """A readable, sortable name such as `Qwen2.5-0.5B-lora-20250101-120000`."""
    base = re.sub(r"[^\w.-]+", "-", Path(model.rstrip("/")).name).strip("-.") or "model"
    return f"{base}-{method}-{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}"


def create_run_dir(root: Path, name: str, exact: bool) -> RunPaths:
    """Make a new, empty run directory. With `exact`, an existing name is an error; else `-2`, `-3`... is added."""
    root.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, 1000):
        candidate = root / (name if attempt == 1 else f"{name}-{attempt}")
        try:
            candidate.mkdir()
        except FileExistsError:
            if exact:
                raise UserError(
                    f"a run named {name} already exists in {root}: continue it with `ftwizard resume {name}`, "
                    "or set output.run_name to a new name"
                ) from None
            continue
        return RunPaths(candidate)
    raise UserError(f"{root} already holds runs named {name}-2 to {name}-999; pick another output.run_name")


def find_run(name_or_path: str, root: Path) -> RunPaths:
    """A run by its name under `root`, or by the path of its directory."""
    for candidate in (Path(name_or_path).expanduser(), root / name_or_path):
        if (candidate / "config.yaml").is_file():
            return RunPaths(candidate.resolve())
    raise UserError(
        f"no run named {name_or_path} in {root}: `ftwizard runs` lists them "
        f"(another runs folder: --runs-dir DIR or ${RUNS_DIR_ENV})"
    )

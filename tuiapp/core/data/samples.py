"""The example datasets shipped in `tuiapp/sample_data`, one small file per supported format.

They are package data, so the demo and the README's examples work after a plain `pip install`; the tests
read them too. `scripts/make_sample_data.py` writes them.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from tuiapp.core.data.records import DataError
from tuiapp.core.data.sources import is_supported


def samples_dir() -> Path:
    """The folder holding the examples, in a source checkout and in an installed wheel alike."""
    folder = Path(str(resources.files("tuiapp") / "sample_data"))
    if not folder.is_dir():
        raise DataError(f"the example datasets are missing ({folder} not found): reinstall ftwizard")
    return folder


def list_samples() -> list[str]:
    """File names of the examples (e.g. `alpaca.json`), sorted."""
    return sorted(p.name for p in samples_dir().iterdir() if p.is_file() and is_supported(p))


def sample_path(name: str) -> Path:
    """The path of one example by file name, e.g. `sample_path("messages.jsonl")`."""
    names = list_samples()
    if name not in names:
        raise DataError(f"no example dataset named {name!r}; there are: {', '.join(names)}")
    return samples_dir() / name

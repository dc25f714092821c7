"""`python -m tuiapp.training.demo_model FOLDER`: build the CPU demo's tiny model (random init) there."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from tuiapp.training.tiny_model import build_tiny_model


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tuiapp.training.demo_model FOLDER", file=sys.stderr)
        return 2
    folder = Path(argv[0])
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    build_tiny_model(partial, arch="llama")
    shutil.rmtree(folder, ignore_errors=True)
    partial.replace(folder)  # whole or not at all: an interrupted build is never mistaken for the model
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

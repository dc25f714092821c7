"""`python -m tuiapp.training.demo_model FOLDER`: build the CPU demo's tiny model (random init) there.

Its tokenizer is SentencePiece, so the demo's GGUF step converts it too; a marker file names the build.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from tuiapp.core.demo import DEMO_MODEL_MARKER, DEMO_MODEL_VERSION
from tuiapp.training.tiny_model import build_tiny_model


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tuiapp.training.demo_model FOLDER", file=sys.stderr)
        return 2
    folder = Path(argv[0])
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    build_tiny_model(partial, arch="llama", tokenizer="sentencepiece")
    marker = {"version": DEMO_MODEL_VERSION, "arch": "llama", "tokenizer": "sentencepiece"}
    (partial / DEMO_MODEL_MARKER).write_text(json.dumps(marker) + "\n", encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    partial.replace(folder)  # whole or not at all: an interrupted build is never mistaken for the model
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

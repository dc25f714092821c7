"""`ftwizard data inspect SOURCE`: format, counts, token statistics and one row as the model sees it."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tuiapp.core.config.choices import DatasetFormat, Task, choices


def register(commands: Any) -> None:
    data = commands.add_parser("data", help="inspect a dataset before training on it")
    actions = data.add_subparsers(title="actions", metavar="ACTION", required=True)
    parser = actions.add_parser("inspect", help="detect the format, count tokens, show a row with its loss marks")
    parser.add_argument("source", help="a .jsonl/.json/.csv/.tsv/.parquet/.txt file or folder, or a Hub dataset id")
    parser.add_argument("--model", help="whose tokenizer and chat template to count with (id or folder)")
    parser.add_argument("--task", default="sft", choices=choices(Task))
    parser.add_argument("--format", default="auto", choices=choices(DatasetFormat), help="skip detection")
    parser.add_argument("--max-len", type=int, default=2048, help="the length training cuts rows at (2048)")
    parser.add_argument("--map", action="append", metavar="NAME=EXPECTED", help="rename a column, e.g. question=prompt")
    parser.add_argument("--row", type=int, default=0, help="which row to render (default 0)")
    parser.add_argument("--config-name", help="the Hub dataset's configuration (subset)")
    parser.add_argument("--split", default="train", help="the Hub dataset's split (train)")
    parser.add_argument("--template", help="use a standard chat template: chatml, llama-3, zephyr, alpaca")
    parser.add_argument("--micro-batch", type=int, default=1, help="for steps per epoch (1)")
    parser.add_argument("--grad-accum", type=int, default=1, help="for steps per epoch (1)")
    parser.add_argument("--skip-bad", action="store_true", help="skip malformed lines (they are counted)")
    parser.add_argument("--dedupe", action="store_true", help="drop exact duplicate rows")
    parser.add_argument("--trust-remote-code", action="store_true", help="run the tokenizer's own code (off)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def _request(args: argparse.Namespace) -> Any:
    from tuiapp.core.data.inspect_request import InspectRequest, parse_mapping

    return InspectRequest(
        source=args.source,
        task=args.task,
        format=args.format,
        columns=parse_mapping(args.map),
        config_name=args.config_name,
        split=args.split,
        model=args.model,
        chat_template=args.template,
        trust_remote_code=args.trust_remote_code,
        max_length=args.max_len,
        micro_batch=args.micro_batch,
        grad_accum=args.grad_accum,
        row=args.row,
        skip_bad=args.skip_bad,
        dedupe=args.dedupe,
    )


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from tuiapp.cli.data_report import StderrProgress, print_report
    from tuiapp.training.dataset_inspect import inspect_dataset

    request = _request(args)
    events: dict[str, Any] = {"notes": []}
    progress = StderrProgress(enabled=not args.json and sys.stderr.isatty())

    def collect(event: dict[str, Any]) -> None:
        kind = event.pop("event")
        if kind == "note":
            events["notes"].append(event["message"])
        elif kind in ("stage", "progress"):
            progress.update(kind, event)
        elif kind == "stats":
            event.pop("lengths")  # every row's count: for the TUI's live max-length, too long to print
            events[kind] = event
        else:
            events[kind] = event

    with progress:
        inspect_dataset(request, collect)
    if args.json:
        print(json.dumps({"source": args.source, **events}, indent=2, ensure_ascii=False))
    else:
        print_report(Console(highlight=False), request, events)
    return 0

"""`ftwizard data inspect SOURCE`: format, counts, token statistics and one row as the model sees it."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tuiapp.cli.arg_types import config_number, eval_size, whole_number
from tuiapp.core.config.choices import DatasetFormat, Task, choices


def register(commands: Any) -> None:
    data = commands.add_parser("data", help="inspect a dataset before training on it")
    actions = data.add_subparsers(title="actions", metavar="ACTION", required=True)
    parser = actions.add_parser("inspect", help="detect the format, count tokens, show a row with its loss marks")
    parser.add_argument("source", help="a .jsonl/.json/.csv/.tsv/.parquet/.txt file or folder, or a Hub dataset id")
    parser.add_argument("--model", help="whose tokenizer and chat template to count with (id or folder)")
    parser.add_argument(
        "--config",
        metavar="CONFIG.yaml",
        help="take model, task and max length from this config and save the dataset settings (format, --map) in it",
    )
    parser.add_argument(
        "--task",
        choices=choices(Task),
        help="sft, dpo, kto, orpo or grpo (default: the config's, else the one the format fits)",
    )
    parser.add_argument("--format", default="auto", choices=choices(DatasetFormat), help="skip detection")
    parser.add_argument(
        "--max-len", type=config_number("training.max_length"), help="the length training cuts rows at (2048)"
    )
    parser.add_argument("--map", action="append", metavar="NAME=EXPECTED", help="rename a column, e.g. question=prompt")
    parser.add_argument(
        "--row", type=whole_number(1), default=1, help="which row to render, from 1 as the Dataset screen counts (1)"
    )
    parser.add_argument("--config-name", help="the Hub dataset's configuration (subset)")
    parser.add_argument("--split", default="train", help="the Hub dataset's split (train)")
    parser.add_argument("--template", help="use a standard chat template: chatml, llama-3, zephyr, alpaca")
    parser.add_argument(
        "--micro-batch",
        type=config_number("training.micro_batch_size"),
        help="for steps per epoch (the config's, else 1)",
    )
    parser.add_argument(
        "--grad-accum", type=config_number("training.grad_accum"), help="for steps per epoch (the config's, else 1)"
    )
    parser.add_argument("--eval-size", type=eval_size, help="rows held out for eval: a fraction below 1 or a count")
    parser.add_argument(
        "--skip-bad", action="store_true", help="skip malformed lines and rows that do not fit the format (counted)"
    )
    parser.add_argument("--dedupe", action="store_true", help="drop exact duplicate rows")
    parser.add_argument("--trust-remote-code", action="store_true", help="run the tokenizer's own code (off)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def _given(flag: Any, fallback: Any) -> Any:
    """The flag's value when it was given (a 0 included), else the config's or the default."""
    return fallback if flag is None else flag


def _request(args: argparse.Namespace, config: Any) -> Any:
    from tuiapp.core.data.inspect_request import DEFAULT_MAX_LENGTH, InspectRequest, parse_mapping

    dataset = config.dataset if config else None
    return InspectRequest(
        source=args.source,
        task=args.task or (config.task if config else None),
        format=args.format,
        columns=parse_mapping(args.map) or (config.dataset.columns if config and config.dataset else {}),
        config_name=args.config_name,
        split=args.split,
        model=args.model or (config.model.name_or_path if config else None),
        chat_template=args.template,
        trust_remote_code=args.trust_remote_code,
        max_length=_given(args.max_len, config.training.max_length if config else DEFAULT_MAX_LENGTH),
        micro_batch=_given(args.micro_batch, config.training.micro_batch_size if config else 1),
        grad_accum=_given(args.grad_accum, config.training.grad_accum if config else 1),
        eval_size=_given(args.eval_size, config.dataset.eval_size if dataset else 0.0),
        seed=config.training.seed if config else 42,
        row=args.row - 1,  # the request counts from 0
        skip_bad=args.skip_bad or bool(dataset and dataset.skip_bad),
        dedupe=args.dedupe or bool(dataset and dataset.dedupe),
    )


def run(args: argparse.Namespace) -> int:
    from tuiapp.cli.console import out_console
    from tuiapp.cli.data_report import StderrProgress, print_report
    from tuiapp.core.config import load_config
    from tuiapp.training.dataset_inspect import inspect_dataset

    if args.template is not None:  # an unknown name is refused even where no tokenizer would use it
        from tuiapp.core.data.chat_templates import standard_template

        standard_template(args.template)
    config = load_config(args.config) if args.config else None
    _check_hub_flags(args)
    request = _request(args, config)
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
    _check_row(args, events)
    if config is not None:
        _remember(args.config, config, request, events["detected"])
    if args.json:
        print(json.dumps({"source": args.source, **events}, indent=2, default=str))
    else:
        print_report(out_console(highlight=False), request, events)
    return _verdict(request, events)


def _check_hub_flags(args: argparse.Namespace) -> None:
    """--split and --config-name choose part of a Hub dataset: given with a local source they would do nothing."""
    from tuiapp.core.data.sources import is_local_source
    from tuiapp.core.user_error import UserError

    given = [flag for flag, used in (("--split", args.split != "train"), ("--config-name", args.config_name)) if used]
    if given and is_local_source(args.source):
        raise UserError(
            f"{' and '.join(given)} choose part of a Hub dataset, but {args.source} is a local file or folder, "
            "which has one split: leave them out"
        )


def _check_row(args: argparse.Namespace, events: dict[str, Any]) -> None:
    """A --row past the last row is a mistake to say, not a row to wrap around to."""
    from tuiapp.core.user_error import UserError

    total = events.get("rows", {}).get("total")
    if total is not None and args.row > total:
        raise UserError(f"--row {args.row}: {args.source} has {total:,} rows to train on; choose 1 to {total:,}")


def _verdict(request: Any, events: dict[str, Any]) -> int:
    """2 when rows would be dropped and --skip-bad was not given, like a malformed line; else 0."""
    cleaned, detected = events["cleaned"], events["detected"]
    if not cleaned["dropped"] or request.skip_bad:
        return 0
    first = cleaned["dropped_examples"][0]
    print(
        f"ftwizard: {cleaned['dropped']:,} row(s) of {request.source} cannot be used as {detected['format']} data "
        f"for task {detected['task']} (e.g. {first['where']}: {first['reason']}); fix or remove them, "
        "or pass --skip-bad to leave them out (training leaves them out too)",
        file=sys.stderr,
    )
    return 2


def _remember(path: str, config: Any, request: Any, detected: dict[str, Any]) -> None:
    """Write the dataset settings (and the task they were checked for) into the config, atomically, so
    training reads the data the same way."""
    from tuiapp.core.config import save_config, with_changes

    changes = {
        "task": detected["task"],
        "dataset.source": request.source,
        "dataset.format": request.format if request.format != "auto" else detected["format"],
        "dataset.columns": request.columns,
        "dataset.split": request.split,
        "dataset.config_name": request.config_name,
        "dataset.skip_bad": request.skip_bad,
        "dataset.dedupe": request.dedupe,
        "dataset.eval_size": request.eval_size,
    }
    save_config(with_changes(config, changes), path)
    print(f"Saved the dataset settings in {path}", file=sys.stderr)

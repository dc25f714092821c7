"""`ftwizard check CONFIG.yaml`: validate a config, then check it against this GPU (or a planned one) and its
model's context length."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from tuiapp.cli.arg_types import gpu_name

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig
    from tuiapp.core.hardware import HardwareProfile
    from tuiapp.core.preflight import Finding


def register(commands: Any) -> None:
    parser = commands.add_parser("check", help="validate a config file and check it against the GPU and the model")
    parser.add_argument("config", metavar="CONFIG.yaml", help="the config file to check")
    parser.add_argument("--gpu", metavar="GPU", type=gpu_name, help='check against this GPU instead: "RTX 4090", 24GB')
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def model_findings(config: FTConfig) -> tuple[list[Finding], list[str]]:
    """(findings, notes) from the model's shape, read as `ftwizard plan` reads it; a model that cannot be
    read here (offline, a typo) is a note saying what was not checked, not a failure."""
    from tuiapp.core.context_check import max_length_problem
    from tuiapp.core.models.resolve import check_not_missing_folder, resolve_model
    from tuiapp.core.preflight import Finding
    from tuiapp.core.user_error import UserError

    try:
        check_not_missing_folder(config.model.name_or_path)  # a path to nothing fails in the worker too
    except UserError as exc:
        return [Finding("error", "model.name_or_path", str(exc))], []
    try:
        model = resolve_model(config.model.name_or_path, revision=config.model.revision)
    except UserError as exc:
        return [], [f"the max length was not checked against the model's context: {exc}"]
    problem = max_length_problem(config, model.context_length)
    return ([Finding("error", "training.max_length", problem)] if problem else []), []


def dataset_findings(config: FTConfig) -> list[Finding]:
    """A local dataset source that is missing, unreadable or not data (a FIFO, a device) is an error here, as
    it is in the worker; a Hub dataset is checked when training reads it."""
    from tuiapp.core.data.records import DataError
    from tuiapp.core.data.sources import is_local_source, source_files
    from tuiapp.core.preflight import Finding

    if config.dataset is None or not is_local_source(config.dataset.source):
        return []
    try:
        source_files(config.dataset.source)
    except DataError as exc:
        return [Finding("error", "dataset.source", str(exc))]
    return []


def launch_findings(config: FTConfig, profile: HardwareProfile) -> tuple[list[Finding], list[str]]:
    """Everything `check` reports (and `train` refuses before making a run folder): the hardware, the model's
    context and a local dataset source; (findings, notes)."""
    from tuiapp.core.preflight import check_against_hardware

    from_model, notes = model_findings(config)
    return [*check_against_hardware(config, profile), *from_model, *dataset_findings(config)], notes


def run(args: argparse.Namespace) -> int:
    from tuiapp.core.config import load_config
    from tuiapp.core.hardware import detect_hardware, planned_hardware, resolve_gpu

    config = load_config(args.config)  # a ConfigError here exits 2 with every located problem
    profile = planned_hardware(resolve_gpu(args.gpu)) if args.gpu else detect_hardware()
    findings, notes = launch_findings(config, profile)
    errors = [finding for finding in findings if finding.level == "error"]
    if args.json:
        print(
            json.dumps(
                {
                    "config": args.config,
                    "valid": not errors,
                    "findings": [vars(finding) for finding in findings],
                    "notes": notes,
                },
                indent=2,
            )
        )
    else:
        gpu = profile.primary_gpu
        target = f"{gpu.name}{' (planned)' if profile.source == 'planned' else ''}" if gpu else "CPU only"
        for finding in findings:
            print(f"{args.config}: {finding}", file=sys.stderr if finding.level == "error" else sys.stdout)
        for note in notes:
            print(f"{args.config}: note: {note}")
        verdict = "has problems" if errors else "is valid"
        summary = f"{config.task} · {config.method} · {config.model.name_or_path}"
        print(f"{args.config} {verdict} for {target}: {summary}")
    return 2 if errors else 0

"""`ftwizard check CONFIG.yaml`: validate a config, then check it against this GPU (or a planned one)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(commands: Any) -> None:
    parser = commands.add_parser("check", help="validate a config file and check it against the GPU")
    parser.add_argument("config", metavar="CONFIG.yaml", help="the config file to check")
    parser.add_argument("--gpu", metavar="GPU", help='check against this GPU instead: "RTX 4090", 24GB')
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tuiapp.core.config import load_config
    from tuiapp.core.hardware import detect_hardware, planned_hardware, resolve_gpu
    from tuiapp.core.preflight import check_against_hardware

    config = load_config(args.config)  # a ConfigError here exits 2 with every located problem
    profile = planned_hardware(resolve_gpu(args.gpu)) if args.gpu else detect_hardware()
    findings = check_against_hardware(config, profile)
    errors = [finding for finding in findings if finding.level == "error"]
    if args.json:
        print(
            json.dumps(
                {
                    "config": args.config,
                    "valid": not errors,
                    "findings": [vars(finding) for finding in findings],
                },
                indent=2,
            )
        )
    else:
        gpu = profile.primary_gpu
        target = f"{gpu.name}{' (planned)' if profile.source == 'planned' else ''}" if gpu else "CPU only"
        for finding in findings:
            print(f"{args.config}: {finding}", file=sys.stderr if finding.level == "error" else sys.stdout)
        verdict = "has problems" if errors else "is valid"
        summary = f"{config.task} · {config.method} · {config.model.name_or_path}"
        print(f"{args.config} {verdict} for {target}: {summary}")
    return 2 if errors else 0

"""`ftwizard demo`: train a tiny model on a bundled dataset on CPU, with the live dashboard (no GPU needed)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tuiapp.cli.train_command import RUNS_DIR_HELP


def register(commands: Any) -> None:
    demo = commands.add_parser(
        "demo", help="train a tiny model on a bundled dataset on CPU (under a minute) with the live dashboard"
    )
    demo.add_argument("--headless", action="store_true", help="print progress lines instead of the dashboard")
    demo.add_argument("--runs-dir", metavar="DIR", help=RUNS_DIR_HELP)
    demo.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from tuiapp.cli.train_command import _start
    from tuiapp.core.demo import demo_config, demo_model_dir, demo_model_is_current, ensure_demo_model
    from tuiapp.core.runs.launcher import launch_worker, prepare_run

    if not demo_model_is_current(demo_model_dir()):  # said only when it is built
        print("building the demo model (a tiny random-init Llama, once)…", file=sys.stderr)
    config = demo_config(ensure_demo_model())
    paths = prepare_run(config, runs_dir=args.runs_dir)
    if args.headless or not sys.stdout.isatty():
        return _start(paths, detach=False, launch=launch_worker)
    from tuiapp.tui.app import FTWizardApp

    launch_worker(paths)
    app = FTWizardApp(run_dir=paths.root)
    app.run()
    return app.return_code or 0

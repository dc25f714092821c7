"""`python -m tuiapp` does what the `ftwizard` console script does."""

from tuiapp.cli import main

raise SystemExit(main())

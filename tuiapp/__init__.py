"""ftwizard: a terminal wizard for fine-tuning a model on one GPU."""

__version__ = "0.1.0"

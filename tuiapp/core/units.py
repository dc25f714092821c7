"""Human-readable sizes, shared by the CLI and the screens."""

GIB = 1024**3


def gib(num_bytes: float) -> str:
    """Bytes as GiB with two decimals, e.g. "23.99 GiB"."""
    return f"{num_bytes / GIB:.2f} GiB"


def share(part: float, whole: float) -> str:
    """A percentage, "-" when the whole is zero."""
    return f"{100 * part / whole:.0f}%" if whole else "-"

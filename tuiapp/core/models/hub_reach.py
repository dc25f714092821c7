"""A quick "is the Hub there at all?" before asking huggingface_hub, which retries a dead network for ~25 s."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

PROBE_TIMEOUT_S = 3.0
_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


def hub_unreachable_reason(endpoint: str, timeout_s: float = PROBE_TIMEOUT_S) -> str | None:
    """Why `endpoint`'s host cannot be reached ("no such host", "connection refused"), or None when a TCP
    connection opens, or when a proxy is set (then only the proxy knows, and huggingface_hub asks it)."""
    if any(os.environ.get(name) for name in _PROXY_VARIABLES):
        return None
    parts = urlsplit(endpoint)
    host = parts.hostname
    if not host:
        return f"{endpoint!r} is not a URL"
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return f"{endpoint!r} has no valid port"
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return None
    except socket.gaierror:
        return f"{host} cannot be looked up (no network, or no DNS)"
    except TimeoutError:
        return f"{host} did not answer within {timeout_s:g} s"
    except OSError as exc:
        return f"{host}:{port}: {exc.strerror or exc}"

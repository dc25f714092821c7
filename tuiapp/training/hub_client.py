"""The Hub calls a push makes, through huggingface_hub with bounded timeouts (its default client waits
forever), its progress bars off (the action reports bytes itself) and every failure turned into one UserError
(tuiapp.training.hub_errors). The token lives in this object only and is scrubbed from any other error."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tuiapp.core.user_error import UserError
from tuiapp.training.hub_errors import HubContext, hub_error, no_token_error, offline_error

if TYPE_CHECKING:
    from collections.abc import Callable

    from tuiapp.core.hub.upload_plan import UploadFile
    from tuiapp.training.action_runner import ActionReport

DEFAULT_ENDPOINT = "https://huggingface.co"
CONNECT_TIMEOUT_S = 10.0  # an unreachable Hub fails within this, at the first request (whoami: no retries)
READ_TIMEOUT_S = 120.0  # an answer that does not come for this long fails (a big commit takes the Hub a while)
WHOAMI_TIMEOUT_S = 15.0  # the first call: an address that accepts connections and says nothing fails here
IO_TIMEOUT_S = 60.0  # a write (or a pooled connection) that makes no progress for this long fails
_TRUE = {"1", "ON", "YES", "TRUE"}


def resolve_endpoint(chosen: str | None) -> str:
    """The Hub's address: --endpoint, else HF_ENDPOINT, else huggingface.co; checked, without a trailing '/'."""
    endpoint = (chosen or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).strip().rstrip("/")
    scheme, _, rest = endpoint.partition("://")
    if scheme not in ("http", "https") or not rest or len(endpoint) > 200 or any(c.isspace() for c in endpoint):
        raise UserError(
            f"{endpoint[:80]!r} is not a Hub address",
            "give --endpoint (or HF_ENDPOINT) as http(s)://HOST[:PORT], e.g. https://hub.example.com",
        )
    return endpoint


def environment_offline() -> bool:
    """Whether HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) keeps huggingface_hub off the network, as set now or
    as huggingface_hub read it when it was imported."""
    from huggingface_hub import constants

    values = (os.environ.get("HF_HUB_OFFLINE"), os.environ.get("TRANSFORMERS_OFFLINE"))
    return constants.HF_HUB_OFFLINE or any((v or "").strip().upper() in _TRUE for v in values)


def stored_token() -> tuple[str, str]:
    """The token (HF_TOKEN, else the stored login) and where it came from, in words; UserError when none."""
    if environment_offline():
        raise offline_error()
    from huggingface_hub import get_token

    token = get_token()
    if not token:
        raise no_token_error()
    from_env = token in (os.environ.get("HF_TOKEN"), os.environ.get("HUGGING_FACE_HUB_TOKEN"))
    return token, "HF_TOKEN" if from_env else "your stored login (hf auth login)"


@dataclass(frozen=True)
class HubUser:
    """Who the token belongs to, and what whoami says it may do."""

    name: str
    orgs: dict[str, str | None] | None  # org name -> role; None when this Hub does not list them
    token_role: str | None

    def check_can_write(self, namespace: str, name: str) -> None:
        """A UserError, before any write request, when the namespace is not the user's or a writable org's."""
        if self.token_role == "read":
            raise UserError(
                "the token is read-only: it cannot create repos or upload",
                "make a token with write access in your Hub settings, then `hf auth login --force` (or set HF_TOKEN)",
            )
        if namespace.lower() == self.name.lower() or self.orgs is None:
            return
        roles = {org.lower(): role for org, role in self.orgs.items()}
        if namespace.lower() not in roles:
            mine = ", ".join(sorted(self.orgs)) or "none"
            raise UserError(
                f"{namespace} is neither your account ({self.name}) nor one of your organizations ({mine}): "
                f"{namespace}/{name} would belong to someone else",
                f"push to your own namespace with --repo {name} ({self.name}/{name}), or ask {namespace} for access",
            )
        if roles[namespace.lower()] == "read":
            raise UserError(
                f"you may only read in the {namespace} organization", f"ask an admin of {namespace} for write access"
            )


@dataclass(frozen=True)
class UploadResult:
    commit: str | None
    unchanged: int  # files the repo already held with the same content


class HubSession:
    """One push's Hub calls, with bounded timeouts and errors turned into UserErrors."""

    def __init__(self, endpoint: str, token: str, context: HubContext) -> None:
        from huggingface_hub import HfApi

        from tuiapp import __version__

        self.context = context
        self._token = token
        self._api = HfApi(endpoint=endpoint, token=token, library_name="ftwizard", library_version=__version__)
        self._bars_were_off = True

    def __enter__(self) -> HubSession:
        from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars, set_client_factory

        set_client_factory(_bounded_client)
        self._bars_were_off = are_progress_bars_disabled()
        disable_progress_bars()
        return self

    def __exit__(self, *exc: object) -> None:
        from huggingface_hub.utils import enable_progress_bars, set_client_factory
        from huggingface_hub.utils._http import default_client_factory

        set_client_factory(default_client_factory)
        if not self._bars_were_off:
            enable_progress_bars()

    def _call(self, step: str, call: Callable[[], Any]) -> Any:
        self.context = HubContext(self.context.endpoint, self.context.repo_id, self.context.token_source, step)
        try:
            return call()
        except UserError:
            raise
        except Exception as error:
            mapped = hub_error(error, self.context)
            if mapped is not None:
                raise _scrubbed(mapped, self._token) from None
            if self._token in str(error):
                raise RuntimeError(str(error).replace(self._token, "***")) from None
            raise

    def whoami(self) -> HubUser:
        from huggingface_hub.utils import set_client_factory

        set_client_factory(_quick_client)  # a Hub that takes a connection and never answers fails in seconds
        try:
            info = self._call("checking the token", lambda: self._api.whoami())
        finally:
            set_client_factory(_bounded_client)
        orgs = info.get("orgs")
        access = (info.get("auth") or {}).get("accessToken") or {}
        return HubUser(
            name=str(info.get("name") or ""),
            orgs={str(o["name"]): o.get("roleInOrg") for o in orgs if isinstance(o, dict) and o.get("name")}
            if isinstance(orgs, list)
            else None,
            token_role=access.get("role") if isinstance(access, dict) else None,
        )

    def create_repo(self, repo_id: str, private: bool) -> bool:
        """Create the model repo; True when it existed already (the Hub's 409), which is fine: it is ours."""
        from huggingface_hub.errors import HfHubHTTPError

        def create() -> bool:
            try:
                self._api.create_repo(repo_id, private=private, exist_ok=False)
            except HfHubHTTPError as error:
                if error.response is not None and error.response.status_code == 409:
                    return True
                raise
            return False

        return self._call("creating the repo", create)

    def upload(self, repo_id: str, files: list[UploadFile], report: ActionReport, message: str) -> UploadResult:
        """Send the files one at a time (what the Hub already holds is skipped), then commit them together."""
        from huggingface_hub import CommitOperationAdd

        operations = [
            CommitOperationAdd(path_in_repo=f.path_in_repo, path_or_fileobj=f.data if f.data is not None else f.source)
            for f in files
        ]
        total = sum(f.size for f in files)
        phase = f"uploading {len(files)} files ({human_size(total)})"
        done = 0
        report.phase(phase, 0, total)
        for operation, item in zip(operations, files, strict=True):
            self._call(f"uploading {item.path_in_repo}", lambda op=operation: self._preupload(repo_id, op))
            done += item.size
            report.phase(phase, done, total)
        unchanged = sum(1 for op in operations if _unchanged(op))
        report.phase("committing")
        info = self._call(
            "committing",
            lambda: self._api.create_commit(repo_id, operations=operations, commit_message=message),
        )
        return UploadResult(getattr(info, "oid", None), unchanged)

    def _preupload(self, repo_id: str, operation: Any) -> None:
        self._api.preupload_lfs_files(repo_id, additions=[operation])


def human_size(num_bytes: int) -> str:
    """`121.7 KB`, `4.2 GB`: decimal units, as the Hub shows file sizes."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if num_bytes >= scale:
            return f"{num_bytes / scale:.1f} {unit}"
    return f"{num_bytes} bytes"


def _unchanged(operation: Any) -> bool:
    remote = getattr(operation, "_remote_oid", None)
    return remote is not None and remote == getattr(operation, "_local_oid", None)


def _bounded_client() -> Any:
    """huggingface_hub's own client (its offline check and request ids), with timeouts."""
    import httpx
    from huggingface_hub.utils._http import default_client_factory

    client = default_client_factory()
    client.timeout = httpx.Timeout(IO_TIMEOUT_S, connect=CONNECT_TIMEOUT_S, read=min(READ_TIMEOUT_S, 2 * IO_TIMEOUT_S))
    return client


def _quick_client() -> Any:
    """For whoami: a small answer, so one that does not come within WHOAMI_TIMEOUT_S will not come."""
    import httpx

    client = _bounded_client()
    client.timeout = httpx.Timeout(WHOAMI_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
    return client


def _scrubbed(error: UserError, token: str) -> UserError:
    if token in error.what or (error.fix and token in error.fix):
        return UserError(error.what.replace(token, "***"), (error.fix or "").replace(token, "***") or None)
    return error

"""What went wrong talking to the Hub, as one UserError with its fix: a missing or refused token, no write
access, a name taken by someone else, a conflict, a quota, a server error, no network. Every message says
whether a rerun helps (it does for anything cut short: the files already uploaded are not sent again) and
none of them carries the token."""

from __future__ import annotations

from dataclasses import dataclass

from tuiapp.core.user_error import UserError

MAX_SERVER_MESSAGE = 240
RERUN = "run the same command again: the files already uploaded are not sent again"
FIRST_STEP = "checking the token"  # whoami, before anything is created or sent


@dataclass(frozen=True)
class HubContext:
    """Where the request went: the Hub, the repo, and which token was used (named, never shown)."""

    endpoint: str
    repo_id: str
    token_source: str  # "HF_TOKEN" or "your stored login (hf auth login)"
    step: str  # what was being done: "checking the token", "creating the repo", "uploading"

    @property
    def tokens_page(self) -> str:
        return f"{self.endpoint}/settings/tokens"


def no_token_error() -> UserError:
    return UserError(
        "no Hugging Face token: HF_TOKEN is not set and there is no stored login",
        "run `hf auth login` with a token that can write (or set HF_TOKEN), then push again",
    )


def offline_error() -> UserError:
    return UserError(
        "HF_HUB_OFFLINE is set: huggingface_hub will not reach the Hub in this shell",
        "unset HF_HUB_OFFLINE (and TRANSFORMERS_OFFLINE), then push again",
    )


def hub_error(error: BaseException, where: HubContext) -> UserError | None:
    """The UserError for a failed Hub call (looking through the chain of causes); None for anything else."""
    import httpx
    from huggingface_hub.errors import HfHubHTTPError, LocalTokenNotFoundError, OfflineModeIsEnabled

    for cause in _chain(error):
        if isinstance(cause, OfflineModeIsEnabled):
            return offline_error()
        if isinstance(cause, LocalTokenNotFoundError):
            return no_token_error()
        if isinstance(cause, HfHubHTTPError) and cause.response is not None:
            return _status_error(cause.response.status_code, _server_message(cause), where)
        if isinstance(cause, httpx.TimeoutException):
            fix = RERUN if where.step != FIRST_STEP else "check the network (or --endpoint, HF_ENDPOINT); try again"
            return UserError(f"{where.endpoint} stopped answering while {where.step} (timed out)", fix)
        if isinstance(cause, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
            return UserError(f"the connection to {where.endpoint} was cut while {where.step}", RERUN)
        if isinstance(cause, httpx.ConnectError | httpx.NetworkError | httpx.UnsupportedProtocol):
            return UserError(
                f"cannot reach {where.endpoint} while {where.step} ({_short(str(cause)) or type(cause).__name__})",
                "check the network (or --endpoint / HF_ENDPOINT), then " + RERUN,
            )
        if isinstance(cause, ValueError) and str(cause).startswith("LFS batch API returned errors"):
            return UserError(f"the Hub refused a file of {where.repo_id}: {_short(str(cause))}", "see the message")
    return None


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= MAX_SERVER_MESSAGE else line[: MAX_SERVER_MESSAGE - 3] + "..."


def _server_message(error: object) -> str:
    message = getattr(error, "server_message", None)
    return _short(str(message)) if message else ""


def _status_error(status: int, said: str, where: HubContext) -> UserError:
    hub_said = f" (the Hub said: {said})" if said else ""
    namespace = where.repo_id.split("/")[0]
    if status == 401:
        return UserError(
            f"the Hub refused the token from {where.token_source} while {where.step} (401): "
            f"it is invalid, expired or revoked{hub_said}",
            f"make a new write token at {where.tokens_page} and run `hf auth login --force` (or set HF_TOKEN)",
        )
    if status == 403:
        return UserError(
            f"the token from {where.token_source} may not write to {where.repo_id} (403 Forbidden while "
            f"{where.step}){hub_said}",
            f"use a token with write access to {namespace} ({where.tokens_page}), or push to your own namespace",
        )
    if status == 404 and where.step == FIRST_STEP:  # whoami names no repo: what answered is not a Hub
        return UserError(
            f"{where.endpoint} does not answer like a Hugging Face Hub (404 on its whoami API){hub_said}",
            "check the address: --endpoint or HF_ENDPOINT (default https://huggingface.co)",
        )
    if status == 404:
        return UserError(
            f"{where.repo_id} was not found while {where.step} (404){hub_said}",
            f"check the name, and that the token from {where.token_source} can see {namespace}",
        )
    if status == 409:
        return UserError(f"another change reached {where.repo_id} first (409 Conflict){hub_said}", RERUN)
    if status in (402, 413, 507):
        return UserError(
            f"the Hub refused the upload to {where.repo_id} as too large ({status}){hub_said}",
            "check your storage quota on the Hub, or push the adapter instead of a whole model",
        )
    if status == 429:
        return UserError(f"the Hub is rate-limiting this account (429){hub_said}", "wait a few minutes, then " + RERUN)
    if status >= 500:
        return UserError(f"the Hub had a server error while {where.step} ({status}){hub_said}", "wait, then " + RERUN)
    return UserError(f"the Hub answered {status} while {where.step}{hub_said}", RERUN)

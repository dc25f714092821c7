"""The push action: publish a finished run's adapter (or its merged model, or its GGUF) on the Hugging Face
Hub with a generated model card, the loss curve and the config that trained it.

Order: the options and the local files are checked first (no request for a bad name or a missing merge), then
the token (`whoami`), then the card is built, then the repo is created (private unless asked otherwise) and the
files are sent one at a time (progress in bytes) before one commit. A rerun after any failure sends only what
the Hub does not have yet: huggingface_hub's preupload skips files whose content is already there, the LFS
batch skips objects already stored, and an unchanged repo gets no empty commit. The token comes from HF_TOKEN
or the stored login and is never written: not in the options, the events, the card or a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tuiapp.core.hub.repo_name import check_repo_name, split_repo
from tuiapp.core.user_error import UserError
from tuiapp.training.action_runner import ActionOutcome
from tuiapp.training.hub_client import HubSession, human_size, resolve_endpoint, stored_token
from tuiapp.training.hub_errors import HubContext
from tuiapp.training.push_contents import published_folder, push_contents

if TYPE_CHECKING:
    from tuiapp.core.runs.layout import RunPaths
    from tuiapp.training.action_runner import ActionReport

WHAT = ("adapter", "merged", "gguf")
KIND_WORDS = {"adapter": "the adapter", "full": "the model", "merged": "the merged model", "gguf": "the GGUF"}


@dataclass(frozen=True)
class PushRequest:
    """The push options, checked: {"repo", "what", "private", "endpoint"} as the Finish screen sends them."""

    repo: str
    what: str
    private: bool
    endpoint: str | None


def push_request(options: dict[str, Any]) -> PushRequest:
    """The options checked before anything else happens."""
    repo = options.get("repo")
    if not isinstance(repo, str):
        raise UserError("no Hub repo given", "pass --repo NAME (name or user-or-org/name)")
    what = options.get("what", "adapter")
    if what not in WHAT:
        raise UserError(f"cannot push {str(what)[:40]!r}", f"push one of: {', '.join(WHAT)}")
    private = options.get("private", True)
    if not isinstance(private, bool):
        raise UserError(f"private must be true or false, not {str(private)[:20]!r}", "pass a boolean")
    endpoint = options.get("endpoint")
    if endpoint is not None and not isinstance(endpoint, str):
        raise UserError("endpoint must be a URL", "pass --endpoint https://HOST")
    return PushRequest(check_repo_name(repo), what, private, endpoint)


def run(paths: RunPaths, options: dict[str, Any], report: ActionReport) -> ActionOutcome:
    """Push the run's result; see the module docstring for the order and what a rerun does."""
    from tuiapp.core.config import load_config

    request = push_request(options)
    endpoint = resolve_endpoint(request.endpoint)
    folder, kind = published_folder(paths, request.what, load_config(paths.config).method)
    report.phase("checking the token")
    token, token_source = stored_token()
    context = HubContext(endpoint, request.repo, token_source, "checking the token")
    with HubSession(endpoint, token, context) as hub:
        user = hub.whoami()
        namespace, name = split_repo(request.repo)
        repo_id = f"{namespace or user.name}/{name}"
        hub.context = HubContext(endpoint, repo_id, token_source, "writing the model card")
        user.check_can_write(namespace or user.name, name)
        report.phase("writing the model card")
        public_endpoint = None if endpoint == "https://huggingface.co" else endpoint
        contents = push_contents(paths, folder, kind, repo_id, public_endpoint, token)
        report.phase("creating the repo")
        existed = hub.create_repo(repo_id, request.private)
        result = hub.upload(repo_id, contents.files, report, f"ftwizard push: {KIND_WORDS[kind]} of run {paths.name}")
    url = f"{endpoint}/{repo_id}"
    visibility = "private" if request.private else "public"
    if existed:
        visibility = "it existed: its visibility was left as it was"
    sent = "nothing had changed" if result.unchanged == len(contents.files) else f"{len(contents.files)} files"
    notes = [*contents.changes]
    if existed:
        notes.append(f"{repo_id} already existed: this push added a commit; files it held before were kept")
    return ActionOutcome(
        summary=f"pushed {KIND_WORDS[kind]} to {url} ({visibility}; {sent}, {human_size(contents.total_bytes)})",
        outputs=[url],
        facts={
            "repo": repo_id,
            "what": "merged" if kind == "merged" else request.what,
            "kind": kind,
            "private": None if existed else request.private,
            "existed": existed,
            "files": len(contents.files),
            "bytes": contents.total_bytes,
            "unchanged_files": result.unchanged,
            "commit": result.commit,
            "endpoint": public_endpoint,
        },
        notes=notes,
    )

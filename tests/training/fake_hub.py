"""A Hugging Face Hub on 127.0.0.1 for the push tests: a stdlib HTTP server in a thread that answers what
huggingface_hub sends to create a repo and commit files over the LFS basic transfer (HF_HUB_DISABLE_XET):
whoami-v2, repos/create, validate-yaml, preupload, the LFS batch API, the object PUT to the URL it hands
out, LFS verify, commit, and the repo info an empty commit asks for. It records every request (path, headers,
body) and can fail on purpose: a status on a step, a hang, or a connection cut."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import yaml

LFS_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".pth", ".npy", ".zip", ".model")


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Repo:
    owner: str
    private: bool
    files: dict[str, bytes] = field(default_factory=dict)
    lfs_paths: set[str] = field(default_factory=set)
    commits: list[str] = field(default_factory=list)


@dataclass
class Fault:
    """What a step does instead of answering: a status, a cut connection, or a hang of `hang_s`."""

    status: int | None = None
    cut: bool = False
    hang_s: float = 0.0
    times: int | None = 1  # None: every time
    message: str = "fault injected by the test"


def git_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class FakeHub:
    """`with FakeHub(tokens={"TOKEN": "alice"}) as hub:` then point huggingface_hub at `hub.url`."""

    def __init__(self, tokens: dict[str, str], orgs: dict[str, dict[str, str]] | None = None) -> None:
        self.tokens = tokens  # token -> user name
        self.orgs = orgs or {}  # org -> {user: role}
        self.token_roles: dict[str, str] = {}  # token -> "read" to make a read-only token
        self.repos: dict[str, Repo] = {}
        self.lfs: dict[str, bytes] = {}
        self.requests: list[Recorded] = []
        self.faults: dict[str, Fault] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeHub:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail(self, step: str, **fault: Any) -> None:
        self.faults[step] = Fault(**fault)

    def take_fault(self, step: str) -> Fault | None:
        with self._lock:
            fault = self.faults.get(step)
            if fault is None:
                return None
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    del self.faults[step]
            return fault

    def can_write(self, user: str, namespace: str) -> bool:
        return user == namespace or self.orgs.get(namespace, {}).get(user) in ("write", "admin")

    def paths_of(self, method: str, prefix: str) -> list[str]:
        return [r.path for r in self.requests if r.method == method and r.path.startswith(prefix)]


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                data = b""
                while True:
                    size = int(self.rfile.readline().strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        return data
                    data += self.rfile.read(size)
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body if body is not None else {}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def _cut(self) -> None:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)

        def _route(self, method: str) -> None:
            path = self.path.split("?")[0]
            body = b"" if method == "GET" else self._body()
            hub.requests.append(Recorded(method, self.path, dict(self.headers.items()), body))
            step, args = _step(method, path)
            fault = hub.take_fault(step) if step else None
            if fault is not None:
                if fault.hang_s:
                    time.sleep(fault.hang_s)
                if fault.cut:
                    return self._cut()
                if fault.status:
                    return self._send(fault.status, {"error": fault.message})
            if step == "put":  # the object store needs no token, as S3's presigned URLs
                return self._put(args[0], body)
            user = hub.tokens.get(self.headers.get("Authorization", "").removeprefix("Bearer "))
            if user is None:
                return self._send(
                    401,
                    {"error": "Invalid credentials"},
                    {"X-Error-Message": "Invalid credentials in Authorization header"},
                )
            handler = getattr(self, f"_{step}", None) if step else None
            if handler is None:
                return self._send(404, {"error": f"no route {method} {path}"})
            return handler(user, *args, body=body)

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

        def do_PUT(self) -> None:
            self._route("PUT")

        def _whoami(self, user: str, body: bytes) -> None:
            token = self.headers["Authorization"].removeprefix("Bearer ")
            orgs = [{"type": "org", "name": o, "roleInOrg": m[user]} for o, m in hub.orgs.items() if user in m]
            role = hub.token_roles.get(token, "write")
            self._send(200, {"type": "user", "name": user, "orgs": orgs, "auth": {"accessToken": {"role": role}}})

        def _create(self, user: str, body: bytes) -> None:
            payload = json.loads(body)
            repo_id = f"{payload.get('organization') or user}/{payload['name']}"
            namespace = repo_id.split("/")[0]
            if not hub.can_write(user, namespace):
                return self._send(
                    403, {"error": f'You don\'t have the rights to create a model under the namespace "{namespace}"'}
                )
            if repo_id in hub.repos:
                return self._send(409, {"error": "You already created this model repo", "url": f"{hub.url}/{repo_id}"})
            hub.repos[repo_id] = Repo(owner=namespace, private=payload.get("visibility") != "public")
            self._send(200, {"url": f"{hub.url}/{repo_id}", "name": repo_id})

        def _validate(self, user: str, body: bytes) -> None:
            content = json.loads(body)["content"]
            try:
                meta = yaml.safe_load(content.split("---", 2)[1])
                assert isinstance(meta, dict)
            except Exception:
                return self._send(400, {"errors": [{"message": "bad metadata"}]})
            self._send(200, {"errors": [], "warnings": []})

        def _repo(self, user: str, repo_id: str) -> Repo | None:
            repo = hub.repos.get(repo_id)
            if repo is None:
                self._send(404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"})
                return None
            if not hub.can_write(user, repo.owner):
                self._send(403, {"error": "You do not have write access"})
                return None
            return repo

        def _preupload(self, user: str, repo_id: str, body: bytes) -> None:
            repo = self._repo(user, repo_id)
            if repo is None:
                return
            files = []
            for item in json.loads(body)["files"]:
                sample = base64.b64decode(item["sample"])
                lfs = item["path"].endswith(LFS_SUFFIXES) or b"\0" in sample or item["size"] > 10_000_000
                old = repo.files.get(item["path"])
                oid = None
                if old is not None:
                    oid = hashlib.sha256(old).hexdigest() if item["path"] in repo.lfs_paths else git_sha1(old)
                files.append(
                    {"path": item["path"], "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False, "oid": oid}
                )
            self._send(200, {"files": files, "commitOid": repo.commits[-1] if repo.commits else None})

        def _batch(self, user: str, repo_id: str, body: bytes) -> None:
            if self._repo(user, repo_id) is None:
                return
            objects = []
            for obj in json.loads(body)["objects"]:
                entry = {"oid": obj["oid"], "size": obj["size"], "authenticated": True}
                if obj["oid"] not in hub.lfs:
                    entry["actions"] = {
                        "upload": {"href": f"{hub.url}/lfs-store/{obj['oid']}"},
                        "verify": {"href": f"{hub.url}/{repo_id}.git/info/lfs/objects/verify"},
                    }
                objects.append(entry)
            self._send(200, {"transfer": "basic", "objects": objects})

        def _put(self, oid: str, body: bytes) -> None:
            if hashlib.sha256(body).hexdigest() != oid:
                return self._send(400, {"error": "sha256 mismatch"})
            hub.lfs[oid] = body
            self._send(200, {})

        def _verify(self, user: str, repo_id: str, body: bytes) -> None:
            oid = json.loads(body)["oid"]
            self._send(200 if oid in hub.lfs else 404, {})

        def _commit(self, user: str, repo_id: str, body: bytes) -> None:
            repo = self._repo(user, repo_id)
            if repo is None:
                return
            lines = [json.loads(line) for line in body.splitlines() if line.strip()]
            staged: dict[str, tuple[bytes, bool]] = {}
            for line in lines[1:]:
                value = line["value"]
                if line["key"] == "file":
                    staged[value["path"]] = (base64.b64decode(value["content"]), False)
                elif line["key"] == "lfsFile":
                    if value["oid"] not in hub.lfs:
                        return self._send(422, {"error": f"LFS object {value['oid']} is missing"})
                    staged[value["path"]] = (hub.lfs[value["oid"]], True)
            for path, (data, lfs) in staged.items():
                repo.files[path] = data
                (repo.lfs_paths.add if lfs else repo.lfs_paths.discard)(path)
            oid = hashlib.sha1(f"{repo_id}{len(repo.commits)}{sorted(staged)}".encode()).hexdigest()
            repo.commits.append(oid)
            self._send(200, {"commitUrl": f"{hub.url}/{repo_id}/commit/{oid}", "commitOid": oid, "success": True})

        def _info(self, user: str, repo_id: str, body: bytes) -> None:
            repo = hub.repos.get(repo_id)
            if repo is None:
                return self._send(404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"})
            sha = repo.commits[-1] if repo.commits else "0" * 40
            siblings = [{"rfilename": p} for p in sorted(repo.files)]
            self._send(
                200, {"id": repo_id, "modelId": repo_id, "sha": sha, "private": repo.private, "siblings": siblings}
            )

    return Handler


def _step(method: str, path: str) -> tuple[str | None, tuple[str, ...]]:
    """The step a request is (whoami, create, validate, preupload, batch, put, verify, commit, info) and its args."""
    parts = path.strip("/").split("/")
    if method == "GET" and path == "/api/whoami-v2":
        return "whoami", ()
    if method == "POST" and path == "/api/repos/create":
        return "create", ()
    if method == "POST" and path == "/api/validate-yaml":
        return "validate", ()
    if method == "PUT" and parts[0] == "lfs-store":
        return "put", (parts[1],)
    if parts[:2] == ["api", "models"] and len(parts) >= 4:
        repo_id = "/".join(parts[2:4])
        if method == "POST" and len(parts) == 6 and parts[4] in ("preupload", "commit"):
            return parts[4], (repo_id,)
        if method == "GET":
            return "info", (repo_id,)
    if method == "POST" and len(parts) == 6 and parts[1].endswith(".git") and parts[2:5] == ["info", "lfs", "objects"]:
        repo_id = f"{parts[0]}/{parts[1].removesuffix('.git')}"
        return ("batch" if parts[5] == "batch" else "verify"), (repo_id,)
    return None, ()

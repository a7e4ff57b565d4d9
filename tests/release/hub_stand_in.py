"""A small local stand-in for the Hugging Face Hub's HTTP API, for tests that must never reach the real Hub.

It implements just what ``huggingface_hub`` (upload: ``create_repo``/``create_commit``/``create_branch``/
``create_tag``/``list_repo_refs``) and ``datasets.load_dataset`` ask of a Hub, as measured in
``shared/hub-stand-in.md``: repo create/info, tree and paths-info listings, preupload, the Git LFS batch API
and its PUT upload, NDJSON commits, branches, tags, refs, validate-yaml, whoami and ``resolve`` downloads.

Repos live on disk under the given directory (``<root>/<type>s/<namespace>/<name>/state.json`` plus a
content-addressed ``objects/`` folder), so a test can inspect them afterwards.

Usage::

    with HubStandIn(tmp_path, tokens={"hf_good"}) as hub:
        env = {"HF_ENDPOINT": hub.endpoint, "HF_HUB_DISABLE_XET": "1", ...}
        hub.fail_next_commit = True      # the next commit answers HTTP 500
        hub.fail("lfs-upload", times=6)  # the next six LFS PUTs answer HTTP 500
        hub.repo_files("me/ds")          # {path: bytes} at main
        hub.leaks("hf_good")             # where a secret showed up outside Authorization headers

Clients must set ``HF_HUB_DISABLE_XET=1``: with ``hf_xet`` installed, ``huggingface_hub`` 2.4 otherwise
asks for a Xet write token and uploads to Xet storage, which this stand-in does not emulate.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

REPO_TYPES = ("model", "dataset", "space")
# URL prefix of a repo type in non-API routes (`/datasets/<repo>/resolve/...`, `/datasets/<repo>.git/...`).
_URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
_GITATTRIBUTES = b"*.parquet filter=lfs diff=lfs merge=lfs -text\n*.arrow filter=lfs diff=lfs merge=lfs -text\n"
_INVALID_CREDENTIALS = "Invalid credentials in Authorization header"
_ANY_NAMESPACE = "*"


def git_blob_sha1(data: bytes) -> str:
    """The git object id of a blob, as the Hub reports for regular files."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The Git LFS pointer file the Hub stores in git for an LFS file."""
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


class HubError(Exception):
    """An HTTP error answer: status, message (JSON ``{"error": ...}``) and Hub-style headers."""

    def __init__(self, status: int, message: str, error_code: str | None = None, *, echo_message: bool = False):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers: dict[str, str] = {}
        if error_code is not None:
            self.headers["X-Error-Code"] = error_code
        if echo_message:
            # The Hub repeats some messages in X-Error-Message; huggingface_hub keys its 401 handling on it.
            self.headers["X-Error-Message"] = message


@dataclass
class LoggedRequest:
    """One request as the stand-in saw it. Authorization values are never kept (only whether one was sent)."""

    method: str
    path: str
    headers: dict[str, str]
    has_authorization: bool
    status: int = 0
    user: str | None = None


@dataclass
class _Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class HubStandIn:
    """A Hub on 127.0.0.1 (free port), serving repos stored under ``root``.

    ``tokens`` are the valid tokens: an iterable (each may write anywhere) or a mapping
    ``token -> namespaces it may create repos in and write to`` (``"*"`` for any). A request whose
    ``Authorization: Bearer`` token is not valid gets HTTP 401 everywhere, as on the Hub; a write
    without a token gets 401; a valid token writing outside its namespaces gets 403.
    """

    def __init__(
        self,
        root: str | Path,
        tokens: Iterable[str] | Mapping[str, Iterable[str]] = ("hf_stand_in",),
        *,
        user: str = "stand-in-user",
    ) -> None:
        self.root = Path(root) / "hub-stand-in"
        self.root.mkdir(parents=True, exist_ok=True)
        if isinstance(tokens, Mapping):
            self.tokens: dict[str, set[str]] = {tok: set(ns) for tok, ns in tokens.items()}
        else:
            self.tokens = {tok: {_ANY_NAMESPACE} for tok in tokens}
        self.user = user
        self.requests: list[LoggedRequest] = []
        self.faults: dict[str, int] = {}  # kind -> how many upcoming requests of that kind answer 500
        self.fail_commit_number: int | None = None  # 1-based: the Nth commit request answers 500
        self.commit_requests = 0
        self._bodies: list[bytes] = []  # request bodies, only for leaks(); never written anywhere
        self._upload_tickets: dict[str, tuple[Path, str, int]] = {}
        self._lock = threading.RLock()
        self._counter = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> HubStandIn:
        handler = type("_Handler", (_Handler,), {"hub": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        # A short poll interval keeps shutdown (once per test) fast.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="hub-stand-in",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> HubStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        assert self._server is not None, "the stand-in is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def client_env(self, hf_home: str | Path) -> dict[str, str]:
        """Environment variables that point huggingface_hub/datasets (in a fresh process) at this stand-in."""
        return {
            "HF_ENDPOINT": self.endpoint,
            "HF_HUB_DISABLE_XET": "1",
            "HF_HUB_OFFLINE": "0",
            "HF_DATASETS_OFFLINE": "0",
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_UPDATE_CHECK": "1",
            "HF_HOME": str(hf_home),
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }

    # ------------------------------------------------------------------ fault injection

    def fail(self, kind: str, times: int = 1) -> None:
        """Make the next ``times`` requests of ``kind`` answer HTTP 500.

        Kinds: ``create``, ``preupload``, ``lfs-batch``, ``lfs-upload``, ``commit``, ``branch``, ``tag``.
        Note the client retries preupload, LFS batch and LFS uploads (5 retries, backoff 1 → 8 s).
        """
        with self._lock:
            self.faults[kind] = self.faults.get(kind, 0) + times

    @property
    def fail_next_commit(self) -> bool:
        return self.faults.get("commit", 0) > 0

    @fail_next_commit.setter
    def fail_next_commit(self, value: bool) -> None:
        with self._lock:
            self.faults["commit"] = 1 if value else 0

    def _take_fault(self, kind: str) -> None:
        with self._lock:
            if self.faults.get(kind, 0) > 0:
                self.faults[kind] -= 1
                raise HubError(500, f"Internal Error (injected fault: {kind})")

    # ------------------------------------------------------------------ test accessors

    def create_repo(self, repo_id: str, *, repo_type: str = "dataset", private: bool = False) -> None:
        """Create a repo directly (as if someone else had), with the Hub's initial ``.gitattributes`` commit."""
        with self._lock:
            if self._repo_dir(repo_type, repo_id).exists():
                raise FileExistsError(repo_id)
            self._init_repo(repo_type, repo_id, private)

    def repo_exists(self, repo_id: str, repo_type: str = "dataset") -> bool:
        return (self._repo_dir(repo_type, repo_id) / "state.json").exists()

    def branch_sha(self, repo_id: str, branch: str = "main", repo_type: str = "dataset") -> str | None:
        return self._load(repo_type, repo_id)["branches"].get(branch)

    def tags(self, repo_id: str, repo_type: str = "dataset") -> dict[str, str]:
        return dict(self._load(repo_type, repo_id)["tags"])

    def commits(self, repo_id: str, revision: str = "main", repo_type: str = "dataset") -> list[dict[str, Any]]:
        """Commits reachable from ``revision``, newest first.

        Each: ``sha``, ``parent``, ``message``, ``description``, ``date``, ``files`` (path -> sha256/size/lfs).
        """
        state = self._load(repo_type, repo_id)
        sha = self._resolve(state, revision)
        out = []
        while sha is not None:
            commit = state["commits"][sha]
            out.append({"sha": sha, **commit})
            sha = commit["parent"]
        return out

    def repo_files(self, repo_id: str, revision: str = "main", repo_type: str = "dataset") -> dict[str, bytes]:
        """Every file at ``revision`` with its content."""
        state = self._load(repo_type, repo_id)
        files = state["commits"][self._resolve(state, revision)]["files"]
        objects = self._repo_dir(repo_type, repo_id) / "objects"
        return {path: (objects / meta["sha256"]).read_bytes() for path, meta in files.items()}

    def leaks(self, secret: str) -> list[str]:
        """Where ``secret`` appears other than in an Authorization header: request paths, other headers,
        request bodies, and every file the stand-in stored on disk."""
        found = []
        needle = secret.encode()
        for i, req in enumerate(self.requests):
            if secret in req.path:
                found.append(f"request {i} path")
            found.extend(f"request {i} header {k}" for k, v in req.headers.items() if secret in v)
        found.extend(f"request {i} body" for i, body in enumerate(self._bodies) if needle in body)
        for path in self.root.rglob("*"):
            if path.is_file() and needle in path.read_bytes():
                found.append(f"file {path}")
        return found

    # ------------------------------------------------------------------ storage

    def _repo_dir(self, repo_type: str, repo_id: str) -> Path:
        return self.root / f"{repo_type}s" / repo_id

    def _load(self, repo_type: str, repo_id: str) -> dict[str, Any]:
        path = self._repo_dir(repo_type, repo_id) / "state.json"
        if not path.exists():
            raise HubError(404, "Repository not found", "RepoNotFound")
        return json.loads(path.read_text())

    def _save(self, repo_type: str, repo_id: str, state: dict[str, Any]) -> None:
        path = self._repo_dir(repo_type, repo_id) / "state.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
        tmp.replace(path)  # atomic: a reader never sees half a state

    def _init_repo(self, repo_type: str, repo_id: str, private: bool) -> dict[str, Any]:
        repo_dir = self._repo_dir(repo_type, repo_id)
        (repo_dir / "objects").mkdir(parents=True, exist_ok=True)
        state: dict[str, Any] = {"private": private, "createdAt": _now(), "branches": {}, "tags": {}, "commits": {}}
        files = {".gitattributes": self._store(repo_dir, _GITATTRIBUTES, lfs=False)}
        sha = self._new_commit(state, None, "initial commit", "", files)
        state["branches"]["main"] = sha
        self._save(repo_type, repo_id, state)
        return state

    @staticmethod
    def _store(repo_dir: Path, data: bytes, *, lfs: bool) -> dict[str, Any]:
        sha256 = hashlib.sha256(data).hexdigest()
        obj = repo_dir / "objects" / sha256
        if not obj.exists():
            obj.write_bytes(data)
        meta: dict[str, Any] = {"sha256": sha256, "size": len(data), "lfs": lfs}
        if not lfs:
            meta["git_oid"] = git_blob_sha1(data)  # regular files are listed by their git blob id
        return meta

    def _new_commit(self, state: dict[str, Any], parent: str | None, message: str, description: str,
                    files: dict[str, dict[str, Any]]) -> str:
        with self._lock:
            self._counter += 1
            seed = json.dumps([parent, message, description, files, self._counter, time.time()], sort_keys=True)
        sha = hashlib.sha1(seed.encode()).hexdigest()
        state["commits"][sha] = {"parent": parent, "message": message, "description": description,
                                 "files": files, "date": _now()}
        return sha

    @staticmethod
    def _resolve(state: dict[str, Any], rev: str) -> str:
        if rev in state["branches"]:
            return state["branches"][rev]
        if rev in state["tags"]:
            return state["tags"][rev]
        if re.fullmatch(r"[0-9a-f]{7,40}", rev):
            matches = [sha for sha in state["commits"] if sha.startswith(rev)]
            if len(matches) == 1:
                return matches[0]
        raise HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")

    # ------------------------------------------------------------------ auth

    def _auth(self, headers: Mapping[str, str]) -> str | None:
        """The valid token sent, or None when none was sent. An invalid token is a 401, as on the Hub."""
        value = headers.get("Authorization")
        if value is None:
            return None
        token = value[len("Bearer "):] if value.startswith("Bearer ") else ""
        if token not in self.tokens:
            raise HubError(401, _INVALID_CREDENTIALS, echo_message=True)
        return token

    def _require_write(self, token: str | None, repo_id: str, action: str = "write to") -> None:
        if token is None:
            raise HubError(401, "You must be authenticated to access this resource.", echo_message=True)
        namespace = repo_id.split("/")[0]
        allowed = self.tokens[token]
        if _ANY_NAMESPACE not in allowed and namespace not in allowed:
            raise HubError(403, f'You don\'t have the rights to {action} the namespace "{namespace}"',
                           echo_message=True)

    def _can_read(self, token: str | None, repo_id: str, state: dict[str, Any]) -> bool:
        if not state["private"]:
            return True
        if token is None:
            return False
        allowed = self.tokens[token]
        return _ANY_NAMESPACE in allowed or repo_id.split("/")[0] in allowed

    def _load_readable(self, token: str | None, repo_type: str, repo_id: str) -> dict[str, Any]:
        state = self._load(repo_type, repo_id)
        if not self._can_read(token, repo_id, state):
            # The Hub does not reveal private repos: same answer as a missing one.
            raise HubError(404, "Repository not found", "RepoNotFound")
        return state

    # ------------------------------------------------------------------ routing

    def handle(self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes) -> _Reply:
        split = urlsplit(raw_path)
        query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        # Split before unquoting: revisions like refs%2Fpr%2F1 are one segment.
        parts = [unquote(p) for p in split.path.split("/")[1:]]
        if parts and parts[-1] == "":
            parts.pop()
        token = self._auth(headers)

        if parts[:1] == ["api"]:
            return self._api(method, parts[1:], query, token, headers, body)
        if parts[:1] == ["lfs-upload"] and method == "PUT":
            return self._lfs_put(parts[1:], query, body)
        # Non-API routes: [datasets/|spaces/]<ns>/<name>(.git/info/lfs/objects/batch | /resolve/<rev>/<path>)
        repo_type = "model"
        if parts and parts[0] in ("datasets", "spaces"):
            repo_type = parts[0][:-1]
            parts = parts[1:]
        if len(parts) >= 2 and parts[1].endswith(".git") and parts[2:] == ["info", "lfs", "objects", "batch"]:
            return self._lfs_batch(repo_type, f"{parts[0]}/{parts[1][:-4]}", token, body)
        if len(parts) >= 5 and parts[2] == "resolve" and method in ("GET", "HEAD"):
            return self._resolve_file(repo_type, f"{parts[0]}/{parts[1]}", parts[3], "/".join(parts[4:]),
                                      token, headers)
        raise HubError(404, "Not Found")

    def _api(self, method: str, parts: list[str], query: dict[str, str], token: str | None,
             headers: Mapping[str, str], body: bytes) -> _Reply:
        if parts == ["repos", "create"] and method == "POST":
            return self._create_repo(token, _json(body))
        if parts == ["whoami-v2"] and method == "GET":
            if token is None:
                raise HubError(401, "Invalid username or password.", echo_message=True)
            return _json_reply(200, {"type": "user", "name": self.user, "orgs": [],
                                     "auth": {"type": "access_token",
                                              "accessToken": {"displayName": "stand-in", "role": "write"}}})
        if parts == ["validate-yaml"] and method == "POST":
            return _json_reply(200, {"errors": [], "warnings": []})
        if len(parts) < 3 or parts[0] not in ("models", "datasets", "spaces"):
            raise HubError(404, "Not Found")
        repo_type, repo_id, rest = parts[0][:-1], f"{parts[1]}/{parts[2]}", parts[3:]

        if not rest and method == "GET":
            return self._repo_info(repo_type, repo_id, None, token)
        if rest[:1] == ["revision"] and len(rest) == 2 and method == "GET":
            return self._repo_info(repo_type, repo_id, rest[1], token)
        if rest[:1] == ["tree"] and len(rest) >= 2 and method == "GET":
            recursive = query.get("recursive", "false").lower() in ("1", "true")
            return self._tree(repo_type, repo_id, rest[1], "/".join(rest[2:]), recursive, token)
        if rest[:1] == ["paths-info"] and len(rest) == 2 and method == "POST":
            return self._paths_info(repo_type, repo_id, rest[1], token, headers, body)
        if rest == ["refs"] and method == "GET":
            return self._refs(repo_type, repo_id, token)
        if rest[:1] == ["preupload"] and len(rest) == 2 and method == "POST":
            return self._preupload(repo_type, repo_id, rest[1], token, body)
        if rest[:1] == ["commit"] and len(rest) == 2 and method == "POST":
            return self._commit(repo_type, repo_id, rest[1], token, query, body)
        if rest[:1] == ["branch"] and len(rest) == 2 and method == "POST":
            return self._create_branch(repo_type, repo_id, rest[1], token, body)
        if rest[:1] == ["tag"] and len(rest) == 2 and method == "POST":
            return self._create_tag(repo_type, repo_id, rest[1], token, body)
        raise HubError(404, "Not Found")

    # ------------------------------------------------------------------ API handlers

    def _create_repo(self, token: str | None, payload: dict[str, Any]) -> _Reply:
        self._take_fault("create")
        repo_type = payload.get("type") or "model"
        if repo_type not in REPO_TYPES:
            raise HubError(400, f"Invalid repo type: {repo_type}")
        namespace = payload.get("organization") or self.user
        repo_id = f"{namespace}/{payload['name']}"
        url = f"{self.endpoint}/{_URL_PREFIX[repo_type]}{repo_id}"  # on our own host: the client checks it
        self._require_write(token, repo_id, action=f"create a {repo_type} under")
        with self._lock:
            if self.repo_exists(repo_id, repo_type):
                # create_repo(exist_ok=True) swallows the 409 and then still reads "url" from this body.
                return _json_reply(409, {"error": f"You already created this {repo_type} repo", "url": url})
            private = payload.get("visibility") == "private" or bool(payload.get("private"))
            self._init_repo(repo_type, repo_id, private)
        return _json_reply(200, {"url": url, "name": repo_id})

    def _repo_info(self, repo_type: str, repo_id: str, rev: str | None, token: str | None) -> _Reply:
        state = self._load_readable(token, repo_type, repo_id)
        sha = self._resolve(state, rev or "main")
        commit = state["commits"][sha]
        return _json_reply(200, {
            "_id": hashlib.md5(repo_id.encode()).hexdigest()[:24],
            "id": repo_id,
            "author": repo_id.split("/")[0],
            "sha": sha,
            "private": state["private"],
            "gated": False,
            "disabled": False,
            "createdAt": state["createdAt"],
            "lastModified": commit["date"],
            "tags": [],
            "downloads": 0,
            "likes": 0,
            "siblings": [{"rfilename": path} for path in sorted(commit["files"])],
        })

    def _entry(self, path: str, meta: dict[str, Any]) -> dict[str, Any]:
        if not meta["lfs"]:
            # Regular files: oid is the git blob id of the content (the client compares it to skip no-ops).
            return {"type": "file", "path": path, "size": meta["size"], "oid": meta.get("git_oid") or ""}
        pointer = lfs_pointer(meta["sha256"], meta["size"])
        return {"type": "file", "path": path, "size": meta["size"], "oid": git_blob_sha1(pointer),
                "lfs": {"oid": meta["sha256"], "size": meta["size"], "pointerSize": len(pointer)}}

    @staticmethod
    def _dir_entry(path: str, sha: str) -> dict[str, Any]:
        return {"type": "directory", "path": path, "oid": hashlib.sha1(f"{sha}:{path}".encode()).hexdigest()}

    def _tree(self, repo_type: str, repo_id: str, rev: str, path: str, recursive: bool,
              token: str | None) -> _Reply:
        state = self._load_readable(token, repo_type, repo_id)
        sha = self._resolve(state, rev)
        files = state["commits"][sha]["files"]
        prefix = f"{path.strip('/')}/" if path.strip("/") else ""
        entries: dict[str, dict[str, Any]] = {}
        for fpath in sorted(files):
            if not fpath.startswith(prefix):
                continue
            rel = fpath[len(prefix):].split("/")
            # Directories between the listed path and the file, as the Hub lists them.
            for depth in range(1, len(rel)):
                if depth > 1 and not recursive:
                    break
                dpath = prefix + "/".join(rel[:depth])
                entries.setdefault(dpath, self._dir_entry(dpath, sha))
            if recursive or len(rel) == 1:
                entries[fpath] = self._entry(fpath, self._with_git_oid(repo_type, repo_id, files[fpath]))
        if prefix and not entries:
            # An empty list here makes the client raise a bare FileNotFoundError; the Hub answers 404.
            raise HubError(404, f"{path} does not exist on {rev}", "EntryNotFound")
        return _json_reply(200, list(entries.values()))

    def _with_git_oid(self, repo_type: str, repo_id: str, meta: dict[str, Any]) -> dict[str, Any]:
        if meta["lfs"] or "git_oid" in meta:
            return meta
        data = (self._repo_dir(repo_type, repo_id) / "objects" / meta["sha256"]).read_bytes()
        return {**meta, "git_oid": git_blob_sha1(data)}

    def _paths_info(self, repo_type: str, repo_id: str, rev: str, token: str | None,
                    headers: Mapping[str, str], body: bytes) -> _Reply:
        state = self._load_readable(token, repo_type, repo_id)
        sha = self._resolve(state, rev)
        files = state["commits"][sha]["files"]
        # huggingface_hub posts a form (paths=a&paths=b&expand=...); accept JSON too.
        if "json" in headers.get("Content-Type", ""):
            paths = _json(body).get("paths", [])
        else:
            paths = parse_qs(body.decode()).get("paths", [])
        out = []
        for p in paths:
            p = p.strip("/")
            if p in files:
                out.append(self._entry(p, self._with_git_oid(repo_type, repo_id, files[p])))
            elif any(f.startswith(p + "/") for f in files):
                out.append(self._dir_entry(p, sha))
        return _json_reply(200, out)

    def _refs(self, repo_type: str, repo_id: str, token: str | None) -> _Reply:
        state = self._load_readable(token, repo_type, repo_id)

        def refs(kind: str, key: str) -> list[dict[str, str]]:
            return [{"name": n, "ref": f"refs/{kind}/{n}", "targetCommit": s} for n, s in sorted(state[key].items())]

        return _json_reply(200, {"branches": refs("heads", "branches"), "tags": refs("tags", "tags"),
                                 "converts": [], "pullRequests": []})

    def _preupload(self, repo_type: str, repo_id: str, rev: str, token: str | None, body: bytes) -> _Reply:
        self._take_fault("preupload")
        state = self._load_readable(token, repo_type, repo_id)
        self._require_write(token, repo_id)
        files = state["commits"][self._resolve(state, rev)]["files"] if rev in state["branches"] else {}
        out = []
        for item in _json(body).get("files", []):
            path = item["path"]
            # Parquet/arrow go to LFS (datasets.push_to_hub deletes its temp shards before committing,
            # so it cannot inline them); everything else is a regular git blob.
            mode = "lfs" if path.endswith((".parquet", ".arrow")) else "regular"
            entry: dict[str, Any] = {"path": path, "uploadMode": mode, "shouldIgnore": False}
            if path in files:
                meta = self._with_git_oid(repo_type, repo_id, files[path])
                entry["oid"] = meta["sha256"] if meta["lfs"] else meta["git_oid"]
            out.append(entry)
        return _json_reply(200, {"files": out, "commitOid": state["branches"].get(rev)})

    def _lfs_batch(self, repo_type: str, repo_id: str, token: str | None, body: bytes) -> _Reply:
        self._take_fault("lfs-batch")
        self._load_readable(token, repo_type, repo_id)
        payload = _json(body)
        if payload.get("operation") != "upload":
            raise HubError(400, "only the upload operation is supported by the stand-in")
        self._require_write(token, repo_id)
        objects_dir = self._repo_dir(repo_type, repo_id) / "objects"
        out = []
        for obj in payload.get("objects", []):
            oid, size = obj["oid"], int(obj["size"])
            entry: dict[str, Any] = {"oid": oid, "size": size}
            if not (objects_dir / oid).exists():  # omit actions for objects the repo already has
                ticket = secrets.token_hex(16)
                with self._lock:
                    self._upload_tickets[ticket] = (objects_dir, oid, size)
                href = f"{self.endpoint}/lfs-upload/{oid}?ticket={ticket}"
                entry["actions"] = {"upload": {"href": href}}
            out.append(entry)
        return _Reply(200, json.dumps({"transfer": "basic", "objects": out}).encode(),
                      {"Content-Type": "application/vnd.git-lfs+json"})

    def _lfs_put(self, parts: list[str], query: dict[str, str], body: bytes) -> _Reply:
        self._take_fault("lfs-upload")
        with self._lock:
            ticket = self._upload_tickets.get(query.get("ticket", ""))
        if ticket is None or parts != [ticket[1]]:
            raise HubError(403, "invalid or expired upload URL")
        objects_dir, oid, size = ticket
        if len(body) != size or hashlib.sha256(body).hexdigest() != oid:
            raise HubError(400, "uploaded content does not match the announced oid/size")
        (objects_dir / oid).write_bytes(body)
        with self._lock:
            self._upload_tickets.pop(query["ticket"], None)
        return _Reply(200, b"", {"ETag": f'"{oid}"'})

    def _commit(self, repo_type: str, repo_id: str, rev: str, token: str | None, query: dict[str, str],
                body: bytes) -> _Reply:
        with self._lock:
            self.commit_requests += 1
            number = self.commit_requests
        if self.fail_commit_number == number:
            raise HubError(500, f"Internal Error (injected fault: commit #{number})")
        self._take_fault("commit")
        self._load_readable(token, repo_type, repo_id)
        self._require_write(token, repo_id)
        if query.get("create_pr") in ("1", "true"):
            raise HubError(400, "pull requests are not supported by the stand-in")
        repo_dir = self._repo_dir(repo_type, repo_id)
        lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            raise HubError(400, "the commit payload must start with a header line")
        header = lines[0]["value"]
        with self._lock:  # read-modify-write of the branch: one commit at a time
            state = self._load(repo_type, repo_id)
            if rev not in state["branches"]:
                raise HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
            parent = state["branches"][rev]
            if header.get("parentCommit") and not parent.startswith(header["parentCommit"]):
                raise HubError(412, "A commit has happened since. Please refresh and try again.")
            files = dict(state["commits"][parent]["files"])
            for line in lines[1:]:
                key, value = line["key"], line["value"]
                path = value["path"].strip("/")
                if key == "file":
                    files[path] = self._store(repo_dir, base64.b64decode(value["content"]), lfs=False)
                elif key == "lfsFile":
                    obj = repo_dir / "objects" / value["oid"]
                    if not obj.exists():
                        raise HubError(422, f"LFS object {value['oid']} for {path} was never uploaded")
                    files[path] = {"sha256": value["oid"], "size": obj.stat().st_size, "lfs": True}
                elif key == "deletedFile":
                    if files.pop(path, None) is None:
                        raise HubError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
                elif key == "deletedFolder":
                    for f in [f for f in files if f.startswith(path + "/")]:
                        del files[f]
                else:
                    raise HubError(400, f"unsupported commit operation: {key}")
            sha = self._new_commit(state, parent, header.get("summary", ""), header.get("description", ""), files)
            state["branches"][rev] = sha
            self._save(repo_type, repo_id, state)
        url = f"{self.endpoint}/{_URL_PREFIX[repo_type]}{repo_id}/commit/{sha}"
        return _json_reply(200, {"success": True, "commitOid": sha, "commitUrl": url, "hookOutput": "",
                                 "pullRequestUrl": None})

    def _create_branch(self, repo_type: str, repo_id: str, branch: str, token: str | None, body: bytes) -> _Reply:
        self._take_fault("branch")
        self._load_readable(token, repo_type, repo_id)
        self._require_write(token, repo_id)
        payload = _json(body) if body else {}
        with self._lock:
            state = self._load(repo_type, repo_id)
            if branch in state["branches"]:
                raise HubError(409, f"Reference already exists: refs/heads/{branch}")
            state["branches"][branch] = self._resolve(state, payload.get("startingPoint") or "main")
            self._save(repo_type, repo_id, state)
        return _json_reply(200, {})

    def _create_tag(self, repo_type: str, repo_id: str, rev: str, token: str | None, body: bytes) -> _Reply:
        # HfApi.create_tag posts {"tag": name, "message"?: ...} to /api/<type>s/<repo>/tag/<revision>.
        self._take_fault("tag")
        self._load_readable(token, repo_type, repo_id)
        self._require_write(token, repo_id)
        tag = _json(body).get("tag")
        if not tag:
            raise HubError(400, "missing tag name")
        with self._lock:
            state = self._load(repo_type, repo_id)
            sha = self._resolve(state, rev)
            if tag in state["tags"]:
                raise HubError(409, f"Tag {tag} already exists")
            state["tags"][tag] = sha
            self._save(repo_type, repo_id, state)
        return _json_reply(200, {})

    def _resolve_file(self, repo_type: str, repo_id: str, rev: str, path: str, token: str | None,
                      headers: Mapping[str, str]) -> _Reply:
        state = self._load_readable(token, repo_type, repo_id)
        sha = self._resolve(state, rev)
        meta = state["commits"][sha]["files"].get(path)
        if meta is None:
            raise HubError(404, "Entry not found", "EntryNotFound")
        data = (self._repo_dir(repo_type, repo_id) / "objects" / meta["sha256"]).read_bytes()
        etag = meta["sha256"] if meta["lfs"] else git_blob_sha1(data)
        reply_headers = {"ETag": f'"{etag}"', "X-Repo-Commit": sha, "Accept-Ranges": "bytes",
                         "Content-Type": "application/octet-stream"}
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", headers.get("Range", "").strip())
        if match and (match.group(1) or match.group(2)):
            total = len(data)
            if match.group(1):
                start = int(match.group(1))
                end = min(int(match.group(2)), total - 1) if match.group(2) else total - 1
            else:  # suffix range: the last N bytes
                start, end = max(total - int(match.group(2)), 0), total - 1
            if start >= total or start > end:
                return _Reply(416, b"", {"Content-Range": f"bytes */{total}"})
            reply_headers["Content-Range"] = f"bytes {start}-{end}/{total}"
            return _Reply(206, data[start:end + 1], reply_headers)
        return _Reply(200, data, reply_headers)


class _Handler(BaseHTTPRequestHandler):
    hub: HubStandIn
    protocol_version = "HTTP/1.1"  # keep-alive, like the Hub; every reply carries Content-Length

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the stand-in keeps its own log (hub.requests); stderr stays quiet

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        body = self._read_body()
        headers = {k: v for k, v in self.headers.items()}
        entry = LoggedRequest(
            method=self.command,
            path=self.path,
            headers={k: ("<redacted>" if k.lower() == "authorization" else v) for k, v in headers.items()},
            has_authorization=any(k.lower() == "authorization" for k in headers),
        )
        # Header lookups below are case-insensitive through self.headers; pass that mapping on.
        try:
            reply = self.hub.handle(self.command, self.path, self.headers, body)
        except HubError as err:
            reply = _Reply(err.status, json.dumps({"error": err.message}).encode(),
                           {"Content-Type": "application/json", **err.headers})
        except Exception as err:  # a bug in the stand-in must show up as a 500, not a hung client
            reply = _Reply(500, json.dumps({"error": f"stand-in bug: {type(err).__name__}: {err}"}).encode(),
                           {"Content-Type": "application/json"})
        entry.status = reply.status
        with self.hub._lock:
            self.hub.requests.append(entry)
            self.hub._bodies.append(body)
        self.send_response(reply.status)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":  # a HEAD answer carries no body, also on errors
            self.wfile.write(reply.body)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _serve


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except json.JSONDecodeError as err:
        raise HubError(400, f"invalid JSON body: {err}") from err
    if not isinstance(value, dict):
        raise HubError(400, "expected a JSON object")
    return value


def _json_reply(status: int, value: Any) -> _Reply:
    return _Reply(status, json.dumps(value).encode(), {"Content-Type": "application/json"})


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


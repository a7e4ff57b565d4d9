"""Push a release folder to the Hugging Face Hub as one commit, then tag it.

A release folder holds ``README.md`` (the dataset card, whose YAML ``configs:`` point at the parquet
shards), ``release.json`` (with ``package_version`` and ``warp_version``) and the shards. ``push_release``
uploads all of it in a single ``create_commit`` so a failed push leaves the repo as it was: no
half-release where some shards are visible and the card is not (``upload_folder`` with ``hf_xet``
installed and ``Dataset.push_to_hub`` both split large uploads into several commits).

The Hub is whatever ``huggingface_hub`` reads from ``HF_ENDPOINT`` when it is imported. Errors are raised
as :class:`ReleaseError` with one line of text that never contains the token. The release folder is only
read, never modified, and exactly the release is uploaded (``contents.py``: the manifest, its shards, the
card and its plots; never ``.progress/``, the lock or temp files); a folder holding anything else is refused.

Every request has connect and read timeouts (``PUSH_CONNECT_TIMEOUT``/``PUSH_READ_TIMEOUT`` seconds,
``WARP_IR_PAIRS_PUSH_TIMEOUT`` overrides both): huggingface_hub's shared client has none (``timeout=None``),
so a server that accepts and never answers would hang the push forever.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from . import contents
from . import manifest as manifests
from .manifest import PACKAGE, Manifest

logger = logging.getLogger(__name__)

REPO_TYPE = "dataset"
# Files the Hub creates itself; a release does not carry them, and pruning must not delete them.
_HUB_MANAGED = frozenset({".gitattributes"})
# Seconds: connecting is quick or never; a read covers the server's slowest answer (a large commit).
PUSH_CONNECT_TIMEOUT = 10.0
PUSH_READ_TIMEOUT = 120.0
TIMEOUT_ENV = "WARP_IR_PAIRS_PUSH_TIMEOUT"


class ReleaseError(RuntimeError):
    """A release could not be validated or pushed. ``str(err)`` is one line, free of secrets."""


def push_release(
    release_dir: str | Path,
    repo_id: str,
    *,
    token: str | None = None,
    private: bool = False,
    revision: str | None = None,
    tag: str | None = None,
) -> str:
    """Upload ``release_dir`` to the dataset repo ``repo_id`` as one commit and tag it; return the commit URL.

    - The repo is created if missing (``private`` only applies then). ``revision`` is the branch to
      commit to (default ``main``); a branch that does not exist is created from ``main``.
    - The commit makes the branch hold exactly the release: files not in the folder are deleted in the
      same commit (except the Hub's ``.gitattributes``), so stale shards cannot leak into a config's
      ``data_files`` glob. History keeps the previous release.
    - The commit is made against the branch head read just before (``parent_commit``), so a concurrent
      push makes this one fail instead of interleaving.
    - ``tag`` defaults to ``v{package_version}``. An existing tag fails the push before anything is
      uploaded.
    """
    folder = Path(release_dir)
    manifest = _read_release(folder)
    package_version, warp_version = manifest.package_version, manifest.warp_version
    problems = contents.check(folder, manifest)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ReleaseError(f"release folder {folder} is not exactly a release: {problems[0]}{more}")
    files = {rel: str(path) for rel, path in contents.upload_files(folder, manifest).items()}

    # Imported here: huggingface_hub reads HF_ENDPOINT and friends at import time, and validating a
    # folder should not need it.
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, get_token

    timeouts = _timeouts()
    _bound_requests(*timeouts)

    api = HfApi(token=token)
    endpoint = api.endpoint
    secrets_ = [s for s in (token, get_token()) if s]
    branch = revision or "main"
    tag = tag or f"v{package_version}"
    message = f"{PACKAGE} {package_version} release (warp-lang {warp_version})"
    n_parquet = sum(rel.endswith(".parquet") for rel in files)
    description = f"{len(files)} files ({n_parquet} parquet shards), pushed by warp_ir_pairs_generator.release.push."
    where = _Where(endpoint=endpoint, repo_id=repo_id, branch=branch, tag=tag)
    where.timeouts = timeouts

    try:
        where.stage = "create"
        api.create_repo(repo_id, repo_type=REPO_TYPE, private=private, exist_ok=True)

        where.stage = "prepare"
        refs = api.list_repo_refs(repo_id, repo_type=REPO_TYPE)
        tags = {ref.name for ref in refs.tags}
        branches = {ref.name: ref.target_commit for ref in refs.branches}
        if tag in tags:
            raise ReleaseError(f"push failed: tag {tag} already exists on {repo_id}; a release tag is never moved, "
                               "bump package_version or pass another tag")
        if branch not in branches:
            if branch in tags:
                raise ReleaseError(f"push failed: revision {branch} is a tag on {repo_id}, not a branch")
            logger.info("creating branch %s on %s", branch, repo_id)
            api.create_branch(repo_id, branch=branch, repo_type=REPO_TYPE)
            branches = {ref.name: ref.target_commit
                        for ref in api.list_repo_refs(repo_id, repo_type=REPO_TYPE).branches}
        where.parent = branches[branch]
        remote = api.list_repo_files(repo_id, repo_type=REPO_TYPE, revision=branch)

        operations: list[Any] = [CommitOperationAdd(path_in_repo=rel, path_or_fileobj=path)
                                 for rel, path in files.items()]
        stale = sorted(p for p in remote if p not in files and p not in _HUB_MANAGED)
        operations += [CommitOperationDelete(path_in_repo=p) for p in stale]
        logger.info("pushing %d files (%d stale files removed) to %s@%s on %s",
                    len(files), len(stale), repo_id, branch, endpoint)

        where.stage = "upload"
        info = api.create_commit(
            repo_id,
            operations,
            commit_message=message,
            commit_description=description,
            repo_type=REPO_TYPE,
            revision=branch,
            parent_commit=where.parent,
        )
        where.commit_url, where.commit_oid = info.commit_url, info.oid

        where.stage = "tag"
        api.create_tag(repo_id, tag=tag, revision=info.oid, tag_message=message, repo_type=REPO_TYPE)
    except ReleaseError:
        raise
    except Exception as err:
        text = _explain(err, where, api)
        logger.debug("push_release: %s", _redact(f"{type(err).__name__}: {err}", secrets_))
        # `from None`: the wrapped exception's text is not ours to vouch for (it may quote request data).
        raise ReleaseError(_redact(text, secrets_)) from None

    logger.info("released %s as %s (tag %s)", repo_id, info.commit_url, tag)
    return info.commit_url


class _Where:
    """How far a push got, so an error can say what happened to the repo."""

    def __init__(self, *, endpoint: str, repo_id: str, branch: str, tag: str) -> None:
        self.endpoint, self.repo_id, self.branch, self.tag = endpoint, repo_id, branch, tag
        self.stage = "create"
        self.parent: str | None = None
        self.commit_url: str | None = None
        self.commit_oid: str | None = None
        self.timeouts = (PUSH_CONNECT_TIMEOUT, PUSH_READ_TIMEOUT)


def _read_release(folder: Path) -> Manifest:
    if not folder.is_dir():
        raise ReleaseError(f"release folder {folder} does not exist or is not a folder")
    for name in (manifests.FILE_NAME, "README.md"):
        if not (folder / name).is_file():
            raise ReleaseError(f"release folder {folder} has no {name}; is it a finished release?")
    try:
        return manifests.read(folder)
    except manifests.ManifestError as err:
        raise ReleaseError(str(err)) from None


def _timeouts() -> tuple[float, float]:
    """(connect, read) seconds; ``WARP_IR_PAIRS_PUSH_TIMEOUT`` sets both (one line when it is not a number)."""
    given = os.environ.get(TIMEOUT_ENV)
    if given is None:
        return PUSH_CONNECT_TIMEOUT, PUSH_READ_TIMEOUT
    try:
        seconds = float(given)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise ReleaseError(f"{TIMEOUT_ENV} must be a number of seconds > 0, got {given!r}")
    return seconds, seconds


def _bound_requests(connect: float, read: float) -> None:
    """Give every request of huggingface_hub's shared client our timeouts where it has none.

    The client is ``get_session()`` (public); its requests carry their timeouts in
    ``request.extensions["timeout"]``, which the transport reads after the request hooks ran, so
    a hook fills the ones left unset (huggingface_hub passes ``timeout=None`` for most calls).
    """
    from huggingface_hub import get_session

    session = get_session()
    hooks = session.event_hooks
    kept = [h for h in hooks.get("request", []) if not getattr(h, "_warp_ir_pairs_timeouts", False)]

    def fill_timeouts(request: Any) -> None:
        given = dict(request.extensions.get("timeout") or {})
        wanted = {"connect": connect, "read": read, "write": read, "pool": connect}
        request.extensions["timeout"] = {k: given.get(k) if given.get(k) is not None else v
                                         for k, v in wanted.items()}

    fill_timeouts._warp_ir_pairs_timeouts = True   # type: ignore[attr-defined]
    session.event_hooks = {**hooks, "request": [*kept, fill_timeouts]}


def _http_status(err: BaseException) -> tuple[int | None, Any]:
    """The HTTP status (and the error) of the first HfHubHTTPError in ``err``'s cause/context chain.

    LFS upload failures arrive wrapped: RuntimeError("Error while uploading ...") from HfHubHTTPError.
    """
    from huggingface_hub.errors import HfHubHTTPError

    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, HfHubHTTPError) and current.response is not None:
            return current.response.status_code, current
        current = current.__cause__ or current.__context__
    return None, None


def _explain(err: BaseException, where: _Where, api: Any) -> str:
    """One line saying what failed, what it means for the repo, and what to do."""
    from huggingface_hub.errors import OfflineModeIsEnabled, RepositoryNotFoundError, RevisionNotFoundError

    endpoint, repo_id = where.endpoint, where.repo_id
    if isinstance(err, OfflineModeIsEnabled):
        return "push failed: HF_HUB_OFFLINE is set, so huggingface_hub refuses to reach the Hub; unset it to push"
    status, http_err = _http_status(err)
    during = {"create": "while creating the repository", "prepare": "while reading the repository",
              "upload": "during upload", "tag": "while tagging"}[where.stage]
    if status is None and _timed_out(err):
        return (f"push failed {during}: {endpoint} did not answer in time (connect/read timeouts "
                f"{where.timeouts[0]:g}/{where.timeouts[1]:g} s, {TIMEOUT_ENV} to change){_aftermath(where, api)}")
    if status is None:
        first = (str(err).strip().splitlines() or [""])[0]
        return (f"push failed {during}: could not talk to {endpoint}: {type(err).__name__}: {first}"
                f"{_aftermath(where, api)}")
    if status == 401:
        return f"push failed: authentication refused by {endpoint} (HTTP 401): check the token"
    if status == 403:
        namespace = repo_id.split("/")[0]
        return (f"push failed: {endpoint} refused write access to {repo_id} (HTTP 403): the token cannot create "
                f"or write repositories in namespace '{namespace}'")
    if isinstance(http_err, RevisionNotFoundError):
        return f"push failed: revision {where.branch} not found on {repo_id} (HTTP 404)"
    if status == 404 or isinstance(http_err, RepositoryNotFoundError):
        return (f"push failed: repository {repo_id} not found on {endpoint} (HTTP {status}): check the repo id "
                "and that the token can see it")
    if status == 409 and where.stage == "tag":
        return (f"push failed: the release was committed ({where.commit_url}) but tag {where.tag} was created "
                "meanwhile by someone else (HTTP 409); check which commit it points to")
    if status == 412:
        return (f"push failed: branch {where.branch} of {repo_id} moved during the push (HTTP 412); nothing was "
                "committed, the local release is unchanged; retry")
    if where.stage == "tag":
        return (f"push failed: the release was committed ({where.commit_url}) but tagging it {where.tag} failed "
                f"(HTTP {status}); rerun the push to tag it (unchanged files are not uploaded again)")
    reason = "the Hub answered" if status >= 500 else "the Hub refused the request with"
    return f"push failed: {reason} HTTP {status} {during}{_aftermath(where, api)}"


def _timed_out(err: BaseException) -> bool:
    """Whether a timeout (httpx's or the socket's) is anywhere in ``err``'s cause/context chain."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, TimeoutError) or "Timeout" in type(current).__name__:
            return True
        current = current.__cause__ or current.__context__
    return False


def _aftermath(where: _Where, api: Any) -> str:
    """What the failure left on the Hub, checked rather than assumed (a 500 may follow a commit)."""
    if where.stage == "tag":
        return f"; the release was committed ({where.commit_url}) but not tagged {where.tag}"
    if where.stage != "upload" or where.parent is None:
        return "; nothing was committed, the local release is unchanged"
    try:
        refs = api.list_repo_refs(where.repo_id, repo_type=REPO_TYPE)
        head = {ref.name: ref.target_commit for ref in refs.branches}.get(where.branch)
    except Exception:
        return "; the Hub could not confirm whether anything was committed, the local release is unchanged"
    if head == where.parent:
        return "; nothing was committed, the local release is unchanged"
    return (f"; branch {where.branch} now points at {head} (was {where.parent}): check the repo before "
            "retrying, the local release is unchanged")


def _redact(text: str, secrets_: list[str]) -> str:
    text = " ".join(text.split())  # one line, whatever the wrapped text held
    for secret in secrets_:
        text = text.replace(secret, "***")
    return text

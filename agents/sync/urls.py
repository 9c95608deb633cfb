"""Remote URLs: the forms ``CONTEXT_REMOTE`` takes, and :func:`open_remote`, which opens the
backend a URL names (the backends are imported only when used)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

from agents.core.errors import ConfigError
from agents.sync.remote import Remote, redact_url

__all__ = ["URL_FORMS", "open_remote"]

URL_FORMS = (
    "dir:///abs/path (or a plain absolute path), git+file:///path/repo.git, "
    "git+ssh://user@host/path/repo.git, git+https://host/path/repo.git, "
    "postgresql://user:password@host:5432/db, azure-blob://<container>, "
    "m365://drives/<drive-id>/<folder>, m365://sites/<site-id>/<folder>"
)


def open_remote(
    url: str,
    *,
    cache_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Remote:
    """Open the remote named by ``url`` (the ``CONTEXT_REMOTE`` setting).

    Args:
        url: One of the forms in ``docs/sync-remotes.md``.
        cache_dir: Where the git backend keeps its local clone (default: a directory under
            ``$XDG_CACHE_HOME/claude-agents/git-remotes``). Other backends ignore it.
        environ: Variables to read secrets from (the Azure connection string); default
            ``os.environ``.

    Raises:
        ConfigError: ``url`` is not a valid remote URL; the message says which form to use.
        RemoteError: the remote cannot be reached or prepared.
    """
    from agents.sync.limits import max_object_bytes

    limit = max_object_bytes()
    remote = _open(url, cache_dir=cache_dir, environ=environ)
    remote.max_bytes = limit
    return remote


def _open(
    url: str,
    *,
    cache_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Remote:
    """Open ``url`` (see :func:`open_remote`)."""
    env = os.environ if environ is None else environ
    text = url.strip()
    if not text:
        raise ConfigError(f"CONTEXT_REMOTE is empty; use one of: {URL_FORMS}")
    scheme = text.split(":", 1)[0].lower() if ":" in text else ""
    if text.startswith(("/", "~")) or scheme == "dir":
        from agents.sync.dir_remote import DirRemote

        return DirRemote(_dir_path(text))
    if scheme in ("git+file", "git+ssh", "git+https", "git+http"):
        from agents.sync.git_remote import GitRemote

        return GitRemote.from_url(text, cache_dir=cache_dir)
    if scheme in ("postgres", "postgresql"):
        from agents.sync.pg_remote import PostgresRemote

        return PostgresRemote(text)
    if scheme == "m365":
        from agents.sync.m365_remote import open_m365

        return open_m365(text, env)
    if scheme == "azure-blob":
        from agents.sync.azure_remote import AzureBlobRemote

        return AzureBlobRemote.from_url(text, env)
    shown = redact_url(text)
    if scheme in ("git", "ssh", "https", "http", "file"):
        hint = f"; for a git remote write git+{scheme}://…"
    elif scheme in ("azure", "azblob", "azure_blob", "wasb", "wasbs"):
        hint = "; for Azure Blob Storage write azure-blob://<container>"
    else:
        hint = ""
    raise ConfigError(
        f"CONTEXT_REMOTE {shown!r} is not a remote URL{hint}; use one of: {URL_FORMS}"
    )


def _dir_path(text: str) -> Path:
    if text.lower().startswith("dir:"):
        parts = urlsplit(text)
        if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
            raise ConfigError(
                f"CONTEXT_REMOTE {text!r}: a dir remote is dir:///absolute/path (three slashes)"
            )
        raw = unquote(parts.path)
    else:
        raw = text
    path = Path(raw).expanduser()
    if not path.is_absolute():
        raise ConfigError(
            f"CONTEXT_REMOTE {text!r}: a dir remote needs an absolute path, e.g. dir:///srv/ctx"
        )
    if _is_git_repository(path):
        raise ConfigError(
            f"CONTEXT_REMOTE {text!r} is a git repository: a folder remote would write the "
            f"store's files into it. Use git+file://{path} to sync through git"
        )
    return path


def _is_git_repository(path: Path) -> bool:
    """True for a git working tree (``.git`` inside) or a bare repository."""
    try:
        if (path / ".git").exists():
            return True
        return all((path / name).exists() for name in ("HEAD", "objects", "refs"))
    except OSError:
        return False

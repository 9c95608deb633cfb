"""``azure-blob`` backend: one blob per key in an Azure Storage container (azure-storage-blob 12).

URL: ``azure-blob://<container>[/<prefix>][?env=<VARIABLE>]``. The connection string is read
from the variable (default ``AZURE_STORAGE_CONNECTION_STRING``, which belongs in the
environment's secrets file), never from the URL. The container is created if missing.

``put_if_absent`` is an upload with ``If-None-Match: *`` (``overwrite=False``); ``cas`` is an
upload with ``If-Match: <etag>`` (``MatchConditions.IfNotModified``), or ``If-None-Match: *``
for create-only. 409 and 412 answers become ``ObjectConflict`` / ``CasConflict``. The etag is
the blob's ETag. Bulk reads and writes run on a small thread pool.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qsl, urlsplit

from azure.core import MatchConditions
from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.storage.blob import BlobProperties, BlobServiceClient, ContainerClient, ExponentialRetry

from agents.core.errors import ConfigError
from agents.sync.keys import is_key, validate_key
from agents.sync.remote import (
    CasConflict,
    Entry,
    ObjectConflict,
    Remote,
    RemoteError,
    put_each,
    scrub,
)

__all__ = ["DEFAULT_ENV", "AzureBlobRemote"]

DEFAULT_ENV = "AZURE_STORAGE_CONNECTION_STRING"
WORKERS = 8
_CONTAINER = re.compile(r"^(?=.{3,63}$)[a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]$")
_NO_CREATE_RIGHT = ("AuthorizationPermissionMismatch", "AuthorizationResourceTypeMismatch")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# ``AccountKey=`` or ``SharedAccessSignature=`` glued to the part before it (a ``;`` left
# out): the SDK would read the secret as part of that value, e.g. the account's host name,
# which a connection error then shows
_GLUED_SECRET = re.compile(r"[^;\s]\s*(?:accountkey|sharedaccesssignature)\s*=", re.IGNORECASE)


class AzureBlobRemote(Remote):
    """A remote in an Azure Blob Storage container."""

    scheme = "azure-blob"

    def __init__(self, container: str, prefix: str, connection_string: str, env_name: str) -> None:
        shown = f"azure-blob://{container}{'/' + prefix if prefix else ''}"
        super().__init__(shown if env_name == DEFAULT_ENV else f"{shown}?env={env_name}")
        self._secrets = _secrets_of(connection_string)
        self._prefix = f"{prefix}/" if prefix else ""
        if _GLUED_SECRET.search(connection_string):
            raise ConfigError(
                f"{env_name} is not a valid Azure Storage connection string: a ';' is missing "
                "before AccountKey= or SharedAccessSignature=; copy it from the storage "
                "account's 'Access keys' page into the environment's secrets file"
            )
        try:
            service = BlobServiceClient.from_connection_string(
                connection_string,
                retry_policy=ExponentialRetry(initial_backoff=1, increment_base=2, retry_total=3),
                connection_timeout=10,
                read_timeout=120,
            )
        except ValueError as e:
            raise ConfigError(
                f"{env_name} is not a valid Azure Storage connection string "
                f"({scrub(str(e), self._secrets)}); copy it from the storage account's "
                "'Access keys' page into the environment's secrets file"
            ) from None
        self._container: ContainerClient = service.get_container_client(container)
        with self._errors("create the container"):
            try:
                self._container.create_container()
            except ResourceExistsError:
                pass
            except HttpResponseError as e:
                # a SAS scoped to an existing container may not create one: use it as it is
                if getattr(e, "error_code", None) not in _NO_CREATE_RIGHT:
                    raise

    @classmethod
    def from_url(cls, url: str, environ: Mapping[str, str]) -> AzureBlobRemote:
        """Parse ``azure-blob://<container>[/<prefix>][?env=<VARIABLE>]``."""
        parts = urlsplit(url)
        host = parts.netloc
        if "@" in host or ":" in host:
            raise ConfigError(
                "CONTEXT_REMOTE: an azure-blob URL carries no credentials; put the connection "
                f"string in {DEFAULT_ENV} in the environment's secrets file"
            )
        if not _CONTAINER.match(host):
            raise ConfigError(
                f"CONTEXT_REMOTE: {host!r} is not an Azure container name (3-63 lowercase "
                "letters, digits and single hyphens): azure-blob://<container>[/<prefix>]"
            )
        prefix = parts.path.strip("/")
        if prefix:
            validate_key(prefix)
        env_name = DEFAULT_ENV
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            if name != "env" or not _ENV_NAME.match(value):
                raise ConfigError(
                    f"CONTEXT_REMOTE: unknown azure-blob URL parameter {name!r}; the only one is "
                    f"?env=<VARIABLE> naming where the connection string is ({DEFAULT_ENV} by "
                    "default). Never put the connection string or a SAS in the URL."
                )
            env_name = value
        connection_string = (environ.get(env_name) or "").strip()
        if not connection_string:
            raise ConfigError(
                f"{env_name} is not set: CONTEXT_REMOTE is an azure-blob remote; put the storage "
                "account's connection string in environments/.env.<env>.secrets"
            )
        return cls(host, prefix, connection_string, env_name)

    @contextlib.contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except (AzureError, ValueError) as e:
            # ValueError: the SDK's word for an answer it cannot use (a ranged read answered
            # without its Content-Range, by a proxy or a hostile endpoint)
            message = scrub(str(e).splitlines()[0] if str(e) else type(e).__name__, self._secrets)
            raise RemoteError(f"{self.display_url}: cannot {what}: {message}") from None

    def _name(self, key: str) -> str:
        return self._prefix + key

    # --- reads ---------------------------------------------------------------------------

    def _get(self, key: str) -> Entry | None:
        with self._errors(f"read {key!r}"):
            try:
                # never more than the limit: the full size comes back in the content range
                stream = self._container.download_blob(
                    self._name(key), offset=0, length=self.max_bytes + 1
                )
            except ResourceNotFoundError:
                return None
            except HttpResponseError as e:
                if e.status_code != 416:  # an empty blob has no byte range
                    raise
                try:
                    stream = self._container.download_blob(self._name(key))
                except ResourceNotFoundError:
                    return None
            if not self.fits(key, _whole_size(stream.properties)):
                return None
            data = stream.readall()
            if not self.fits(key, len(data)):
                return None
            return Entry(data, str(stream.properties.etag))

    def _get_many(self, keys: list[str]) -> dict[str, Entry]:
        if len(keys) < 2:
            return super()._get_many(keys)
        with ThreadPoolExecutor(WORKERS) as pool:
            results = list(pool.map(self._get, keys))
        return {k: e for k, e in zip(keys, results, strict=True) if e is not None}

    def _current_etag(self, key: str) -> str | None:
        try:
            return str(self._container.get_blob_client(self._name(key)).get_blob_properties().etag)
        except ResourceNotFoundError:
            return None

    def _list(self, prefix: str) -> Iterator[str]:
        with self._errors("list"):
            names = list(self._container.list_blob_names(name_starts_with=self._name(prefix)))
        cut = len(self._prefix)
        return (n[cut:] for n in names if is_key(n[cut:]))

    # --- writes --------------------------------------------------------------------------

    def _put_many(self, items: list[tuple[str, bytes]]) -> None:
        put_each(items, self._put_one, WORKERS)

    def _put_one(self, key: str, data: bytes) -> None:
        with self._errors(f"write {key!r}"):
            blob = self._container.get_blob_client(self._name(key))
            try:
                blob.upload_blob(data, overwrite=False)
            except ResourceExistsError:
                if blob.download_blob().readall() != data:
                    raise ObjectConflict(key) from None

    def _cas(self, key: str, data: bytes, expected: str | None) -> str:
        with self._errors(f"compare-and-swap {key!r}"):
            blob = self._container.get_blob_client(self._name(key))
            try:
                if expected is None:
                    result = blob.upload_blob(data, overwrite=False)
                else:
                    result = blob.upload_blob(
                        data,
                        overwrite=True,
                        etag=expected,
                        match_condition=MatchConditions.IfNotModified,
                    )
            except (ResourceExistsError, ResourceModifiedError, ResourceNotFoundError) as e:
                if getattr(e, "error_code", None) == "ContainerNotFound":
                    raise  # no race lost: the container is gone
                raise CasConflict(key, self._current_etag(key), expected) from None
            return str(result["etag"])

    def _delete(self, key: str) -> None:
        with self._errors(f"delete {key!r}"), contextlib.suppress(ResourceNotFoundError):
            self._container.delete_blob(self._name(key))

    def close(self) -> None:
        """Close the HTTP transport."""
        self._container.close()


def _whole_size(properties: BlobProperties) -> int:
    """The blob's size: a ranged read's ``size`` is the range's, the whole follows the ``/``
    of its content range (``bytes 0-70000/104857600``)."""
    whole = str(properties.content_range or "").rpartition("/")[2]
    return int(whole) if whole.isdigit() else int(properties.size or 0)


def _secrets_of(connection_string: str) -> tuple[str, ...]:
    secrets: list[str] = []
    for part in connection_string.split(";"):
        name, _, value = part.partition("=")
        if name.strip().lower() in ("accountkey", "sharedaccesssignature") and value:
            secrets.append(value)
            secrets.extend(v for k, v in parse_qsl(value) if k == "sig")
    return tuple(secrets)

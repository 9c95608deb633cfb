"""The one redaction rule: what counts as a secret in everything the agents keep or show.

Every recorder, log line, sync message and capture goes through here, so they all agree:

- a **secret-named key** (:func:`is_secret_name`): its value is replaced whole, whatever it is;
- a **credential-shaped value** (:data:`TOKEN_PATTERNS`), under any key or inside any text:
  Notion ``ntn_``/``secret_`` tokens, ``Bearer`` tokens, JWTs, ``AGE-SECRET-KEY-…``, private-key
  PEM blocks, SAS ``sig=`` values, connection-string keys and passwords, URL passwords, and the
  common vendor key shapes;
- the **output of a tool that reads local files** is kept only as its hash, size and a short
  masked preview (:func:`file_output`).

Pattern scanning is the second line behind the name rule: it catches the shapes it knows.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = [
    "MAX_ITEMS",
    "MAX_STRING",
    "PREVIEW_CHARS",
    "REDACTED",
    "TOKEN_PATTERNS",
    "TokenPattern",
    "file_output",
    "find_tokens",
    "is_secret_name",
    "mask",
    "mask_text",
    "may_name_a_secret",
    "redact_url",
    "summary",
]

REDACTED = "[redacted]"
MAX_STRING = 200
MAX_ITEMS = 20
PREVIEW_CHARS = 120

# --- names ----------------------------------------------------------------------------------

# A name is split into words (camelCase, snake_case, kebab-case, dots). It is secret when one
# of its words is one of these...
_SECRET_WORDS = frozenset(
    {
        "pwd",
        "pass",
        "sas",
        "sig",
        "signature",
        "cookie",
        "cookies",
        "authorization",
        "apikey",
        "secrettext",
    }
)
# ...or when the name, its words joined, contains one of these (``sslpassword``, ``accessToken``,
# ``connection_string``)...
_SECRET_PARTS = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "credential",
    "privatekey",
    "accountkey",
    "accesskey",
    "connectionstring",
    "connstr",
)
# ...or when its last word is ``key``/``keys``, unless the key is one that identifies rather
# than unlocks (``primaryKey``, ``sort_key``, ``public_key``).
_NAMING_KEYS = frozenset(
    {
        "primary",
        "foreign",
        "sort",
        "partition",
        "row",
        "public",
        "idempotency",
        "cache",
        "lookup",
        "dedup",
        "dedupe",
        "group",
        "map",
        "object",
        "hot",
        "shortcut",
        "property",
        "column",
        "field",
        "unique",
        "natural",
        "composite",
        "index",
    }
)
# A last word that describes the secret rather than holds it: ``token_type``, ``keyId``,
# ``AZURE_FEDERATED_TOKEN_FILE``, ``LOKKA_TOKEN_CACHE``, ``secretName``, ``expires_at``.
_ABOUT_WORDS = frozenset(
    {
        "file",
        "path",
        "dir",
        "cache",
        "url",
        "uri",
        "endpoint",
        "type",
        "kind",
        "count",
        "id",
        "ids",
        "name",
        "names",
        "hint",
        "expiry",
        "expires",
        "expiration",
        "at",
        "ttl",
        "length",
        "mode",
        "helper",
        "export",
        "refresh",
        "unencrypted",
        "policy",
        "version",
        "enabled",
        "required",
    }
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SPLIT = re.compile(r"[^a-z0-9]+")


@functools.lru_cache(maxsize=8192)
def is_secret_name(name: str) -> bool:
    """Whether a key, parameter, flag or variable named ``name`` holds a secret.

    ``passphrase``, ``pwd``, ``private_key``, ``client_secret``, ``sas``, ``connection_string``,
    ``AccountKey``, ``sslpassword`` are; ``keyword``, ``monkey``, ``primaryKey``, ``keyId``,
    ``token_type``, ``AZURE_FEDERATED_TOKEN_FILE`` are not (their last word describes a secret
    rather than holds one).
    """
    words = [w for w in _SPLIT.split(_CAMEL.sub("_", name).lower()) if w]
    if not words or words[-1] in _ABOUT_WORDS:
        return False
    if _SECRET_WORDS.intersection(words):
        return True
    joined = "".join(words)
    if any(part in joined for part in _SECRET_PARTS):
        return True
    return words[-1] in ("key", "keys") and not _NAMING_KEYS.intersection(words[:-1])


def may_name_a_secret(text: str) -> bool:
    """False only when no name in ``text`` can be a secret name (so a scan of its
    ``name = value`` assignments can be skipped): none of the words and parts above, nor
    ``key``, occurs in it, separators and case aside."""
    squeezed = _SPLIT.sub("", text.lower())
    if "key" in squeezed:
        return True
    return any(w in squeezed for w in _SECRET_WORDS) or any(p in squeezed for p in _SECRET_PARTS)


# --- values ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenPattern:
    """A known credential shape; ``group`` selects the secret part of a match."""

    name: str
    regex: re.Pattern[str]
    group: int = 0
    # literal text every match contains (in the lower-cased text when ``fold``): a pattern
    # whose hints are all absent cannot match, so its regex is not run at all
    hints: tuple[str, ...] = ()
    fold: bool = False
    # literal text every match contains besides one of its hints: without it, no match either
    needs: str = ""


def _p(
    name: str,
    regex: str,
    group: int = 0,
    *,
    hints: tuple[str, ...] = (),
    fold: bool = False,
    needs: str = "",
) -> TokenPattern:
    return TokenPattern(name, re.compile(regex), group, hints, fold, needs)


_B = r"(?<![A-Za-z0-9_-])"  # not inside a longer word
_NOT_REF = r"(?!\$\{|\{\{|secret://)"  # ${NAME}, {{name}} and secret://name are references
TOKEN_PATTERNS: tuple[TokenPattern, ...] = (
    _p("anthropic-key", _B + r"sk-ant-[A-Za-z0-9_-]{20,}", hints=("sk-ant-",)),
    _p("openai-key", _B + r"sk-(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{20,}", hints=("sk-",)),
    _p(
        "notion-token",
        _B + r"(?:ntn_[A-Za-z0-9]{30,}|secret_(?=[A-Za-z0-9]*\d)[A-Za-z0-9]{30,})",
        hints=("ntn_", "secret_"),
    ),
    _p(
        "github-token",
        _B + r"(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})",
        hints=("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    ),
    _p("slack-token", _B + r"xox[abposre]-[A-Za-z0-9-]{10,}", hints=("xox",)),
    _p("jwt", _B + r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*", hints=("eyJ",)),
    _p(
        "azure-client-secret",
        r"(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])",
        hints=("Q~",),
    ),
    _p("aws-access-key", _B + r"(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Za-z0-9])", hints=("AKIA", "ASIA")),
    _p("google-api-key", _B + r"AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])", hints=("AIza",)),
    _p(
        "slack-webhook",
        r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]{20,}",
        hints=("hooks.slack.com/",),
    ),
    _p(
        "age-secret-key",
        r"(?i)AGE-SECRET-KEY-1[0-9A-Z]{58}",
        hints=("age-secret-key-1",),
        fold=True,
    ),
    # a private key, or what is left of one after a cut (no END line)
    _p(
        "private-key",
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----[\s\S]*?"
        r"(?:-----END [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----|\Z)",
        hints=("PRIVATE KEY",),
    ),
    _p(
        "bearer-token",
        r"(?i)\bbearer\s+" + _NOT_REF + r"((?=[A-Za-z0-9._~+/=-]*\d)[A-Za-z0-9._~+/=-]{8,}"
        r"|[A-Za-z0-9._~+/=-]{16,})",
        1,
        hints=("bearer",),
        fold=True,
    ),
    _p(
        "authorization-header",
        r"(?i)\bauthorization[\"']?\s*[:=]\s*[\"']?(?:basic|token|digest)\s+"
        + _NOT_REF
        + r"([A-Za-z0-9._~+/=-]{8,})",
        1,
        hints=("authorization",),
        fold=True,
    ),
    # an Azure SAS (``?sv=…&sig=…``): the signature is the secret
    _p(
        "sas-signature",
        r"(?i)(?<![A-Za-z0-9_])sig=" + _NOT_REF + r"([A-Za-z0-9%+/=._-]{8,})",
        1,
        hints=("sig=",),
        fold=True,
    ),
    # connection strings: ``AccountKey=…;``, ``SharedAccessKey=…``, ``Password=…``
    _p(
        "connection-string-secret",
        r"(?i)(?<![A-Za-z0-9_])(?:AccountKey|SharedAccessKey|SharedAccessSignature|Password|Pwd)"
        r"\s*=\s*" + _NOT_REF + r"([^\s;'\"${][^\s;'\"]*)",
        1,
        hints=("accountkey", "sharedaccess", "password", "pwd"),
        fold=True,
    ),
    # scheme://user:password@host
    _p(
        "url-password",
        r"(?i)\b[a-z][a-z0-9+.-]*://[^/\s:@\"']*:" + _NOT_REF + r"([^/\s@\"'${][^/\s@\"']*)@",
        1,
        hints=("://",),
        needs="@",  # a URL without one (most of them) is not scanned
    ),
)


# Whether any pattern's literal text is in a text: most texts (log fields, ids, titles) hold
# none and are done after these substring tests (faster than one regex alternation).
_HINTS = tuple(h for p in TOKEN_PATTERNS if not p.fold and not p.needs for h in p.hints)
_FOLDED_HINTS = tuple(h for p in TOKEN_PATTERNS if p.fold and not p.needs for h in p.hints)
_PAIRED = tuple(p for p in TOKEN_PATTERNS if p.needs)


def _hinted(pat: TokenPattern, where: str) -> bool:
    """Whether ``where`` (lower-cased for a ``fold`` pattern) holds what every match of
    ``pat`` contains."""
    return any(h in where for h in pat.hints) and (not pat.needs or pat.needs in where)


def _any_hint(text: str) -> bool:
    if any(h in text for h in _HINTS):
        return True
    lower = text.lower()
    if any(_hinted(p, lower if p.fold else text) for p in _PAIRED):
        return True
    return any(h in lower for h in _FOLDED_HINTS)


def find_tokens(text: str) -> list[tuple[int, int, str]]:
    """(start, end, pattern name) of every credential shape in ``text``, without overlaps."""
    if not _any_hint(text):
        return []
    hits: list[tuple[int, int, str]] = []
    lower: str | None = None
    for pat in TOKEN_PATTERNS:
        if pat.hints:
            if pat.fold and lower is None:
                lower = text.lower()
            where = lower if pat.fold else text
            assert where is not None
            if not _hinted(pat, where):
                continue
        for m in pat.regex.finditer(text):
            s, e = m.span(pat.group)
            if s < e and not any(s < he and hs < e for hs, he, _ in hits):
                hits.append((s, e, pat.name))
    return sorted(hits)


def mask_text(text: str) -> str:
    """``text`` with every credential shape replaced by ``[redacted]``."""
    spans = find_tokens(text)
    if not spans:
        return text
    out, last = [], 0
    for s, e, _ in spans:
        out += [text[last:s], REDACTED]
        last = e
    out.append(text[last:])
    return "".join(out)


def _hide(value: Any, secret: str | None, hidden: Callable[[str], str]) -> Any | None:
    """The masked leaf under secret-named key ``secret``; None when ``value`` is no leaf."""
    if isinstance(value, dict | list | tuple):
        return None
    if value is None or isinstance(value, bool):
        return value  # true/false/null carry no secret; the shape stays readable
    return hidden(secret or "")


def _plainly_clean(value: dict[Any, Any]) -> bool:
    """Whether a flat dict (a log line, most arguments) has nothing to mask, in one search."""
    texts = []
    for k, v in value.items():
        key = str(k)
        if is_secret_name(key):
            return False
        if isinstance(v, str):
            texts.append(v)
        elif not (v is None or isinstance(v, bool | int | float)):
            return False
        texts.append(key)
    return not _any_hint("\x00".join(texts))


def mask(
    value: Any, *, hidden: Callable[[str], str] = lambda _: REDACTED, _secret: str | None = None
) -> Any:
    """``value`` (JSON-like) whole, with credential shapes masked and, under a secret-named
    key, every string and number masked however deep (``passwordProfile.password`` and
    ``token.value`` alike; booleans and nulls stay). ``hidden(key)`` is the mask shown.
    Tuples come back as lists; other leaves unchanged."""
    if _secret is not None and (leaf := _hide(value, _secret, hidden)) is not None:
        return leaf
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        if _secret is None and _plainly_clean(value):
            return value
        return {
            mask_text(str(k)): mask(
                v, hidden=hidden, _secret=str(k) if is_secret_name(str(k)) else _secret
            )
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [mask(v, hidden=hidden, _secret=_secret) for v in value]
    return value


def summary(value: Any, *, depth: int = 0, _secret: str | None = None) -> Any:
    """:func:`mask` of ``value``, bounded for logs and call records: long strings and
    collections cut (after masking, so no cut leaves half a secret), nesting limited."""
    if depth > 4:
        return "…"
    if _secret is not None and (leaf := _hide(value, _secret, lambda _: REDACTED)) is not None:
        return leaf
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for i, (k, v) in enumerate(value.items()):
            if i >= MAX_ITEMS:
                out["…"] = f"{len(value) - MAX_ITEMS} more keys"
                break
            name = str(k)
            out[mask_text(name)] = summary(
                v, depth=depth + 1, _secret=name if is_secret_name(name) else _secret
            )
        return out
    if isinstance(value, list | tuple):
        items = [summary(v, depth=depth + 1, _secret=_secret) for v in value[:MAX_ITEMS]]
        if len(value) > MAX_ITEMS:
            items.append(f"… {len(value) - MAX_ITEMS} more items")
        return items
    if isinstance(value, str):
        text = mask_text(value)
        return text if len(text) <= MAX_STRING else text[:MAX_STRING] + f"… ({len(text)} chars)"
    if value is None or isinstance(value, bool | int | float):
        return value
    return summary(str(value), depth=depth + 1)


def file_output(value: Any) -> dict[str, Any]:
    """What is kept of the output of a tool that read a local file: the SHA-256 and size of its
    JSON form and a short masked preview, never the whole (it may hold the file's content)."""
    data = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str).encode()
    text = data.decode()
    preview = mask_text(text[: PREVIEW_CHARS * 2])[:PREVIEW_CHARS]
    return {
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "preview": preview + ("…" if len(text) > PREVIEW_CHARS else ""),
    }


def redact_url(url: str) -> str:
    """``url`` with any password and secret-named query values replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in userinfo else f"{user}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(k, "***" if is_secret_name(k) else mask_text(v)) for k, v in pairs], safe="*/:[]"
        )
    if netloc == parts.netloc and query == parts.query:
        return url  # nothing to hide: as written (urlunsplit drops an empty authority's //)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))

"""Secret detection on capture: values are taken out of documents and replaced by references.

What counts as a secret (docs/claude-context.md):
- every value of an MCP server's ``env`` and ``headers``, and of settings.json ``env``;
- values under secret names (:func:`agents.core.redact.is_secret_name`: JSON keys, ``--flags``,
  URL query parameters, ``NAME=value`` lines);
- known token shapes anywhere in text (:data:`agents.core.redact.TOKEN_PATTERNS`).

A reference is ``${NAME}`` where the target expands it (``.mcp.json``) and ``secret://NAME``
elsewhere. Pattern scanning is not exhaustive; it is the second line behind the name rules.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus, urlsplit

from agents.claude.drafts import RefStyle, SecretRef
from agents.core.redact import TOKEN_PATTERNS, TokenPattern, find_tokens, may_name_a_secret
from agents.core.redact import is_secret_name as _is_secret_name

__all__ = [
    "TOKEN_PATTERNS",
    "Extractor",
    "TokenPattern",
    "is_reference",
    "is_secret_name",
    "pointer",
]


# settings keys whose names match but whose values are commands or paths, never secrets
_NOT_SECRET_NAMES = frozenset(
    {"apiKeyHelper", "awsAuthRefresh", "awsCredentialExport", "otelHeadersHelper"}
)
_REF = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}|secret://[^\s\"'`]+|\{\{[^{}]+\}\}")
# NAME=value / NAME: value / "name": "value" lines in free text (.env files, notes)
_ASSIGN = re.compile(
    r"""(?P<key>["']?[A-Za-z_][A-Za-z0-9_.-]*["']?)[ \t]*[=:][ \t]*"""
    r"""(?P<q>["']?)(?P<value>[^\s"'`,;]{6,})(?P=q)"""
)


def is_secret_name(name: str) -> bool:
    """Whether a key, flag or variable name says its value is a secret: the one rule of
    :func:`agents.core.redact.is_secret_name`, less the settings keys that name commands."""
    return name not in _NOT_SECRET_NAMES and _is_secret_name(name)


def is_reference(value: str) -> bool:
    """Whether ``value`` is only references/placeholders plus non-secret text."""
    return bool(_REF.search(value)) and not find_tokens(_REF.sub("", value))


def _secret_like(value: Any) -> bool:
    return (
        isinstance(value, str)
        and len(value) >= 4
        and not (value.isdigit() and len(value) <= 6)
        and not is_reference(value)
        and value.lower() not in {"true", "false", "null", "none"}
    )


def _credential_like(value: str) -> bool:
    """Stricter than :func:`_secret_like`, for free text: prose words are not credentials."""
    return _secret_like(value) and (any(c.isdigit() for c in value) or len(value) >= 16)


def pointer(*parts: str | int) -> str:
    """An RFC 6901 JSON pointer."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _env_name(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").upper()
    return name if name and not name[0].isdigit() else f"S_{name}"


@dataclass
class Extractor:
    """Collects secret values during one capture and hands out stable reference names.

    The same value under the same wanted name always gets the same name, so repeated captures
    produce identical documents; a different value under a taken name gets a ``_2`` suffix.
    """

    values: dict[str, str] = field(default_factory=dict)

    def _name(self, wanted: str, value: str) -> str:
        name, n = wanted, 1
        while name in self.values and self.values[name] != value:
            n += 1
            name = f"{wanted}_{n}"
        self.values[name] = value
        return name

    def take(
        self, value: str, wanted: str, path: str, style: RefStyle, refs: list[SecretRef]
    ) -> str:
        """Store ``value`` under a name derived from ``wanted``; return its reference text."""
        ref = SecretRef(path, self._name(wanted, value), style)
        refs.append(ref)
        return ref.ref

    def scrub_text(
        self, text: str, path: str, refs: list[SecretRef], style: RefStyle = "uri"
    ) -> str:
        """Replace token shapes and secret-named assignments inside free text."""
        spans = [(s, e, kind) for s, e, kind in find_tokens(text)]
        for m in _ASSIGN.finditer(text) if may_name_a_secret(text) else ():
            key = m.group("key").strip("\"'")
            s, e = m.span("value")
            value = m.group("value")
            if (
                is_secret_name(key)
                and _credential_like(value)
                and not any(s < he and hs < e for hs, he, _ in spans)
            ):
                spans.append((s, e, key.lower()))
        if not spans:
            return text
        out, last = [], 0
        for s, e, kind in sorted(spans):
            value = text[s:e]
            digest = hashlib.sha256(value.encode()).hexdigest()[:8]
            wanted = f"token/{kind}-{digest}" if style == "uri" else _env_name(f"{kind}_{digest}")
            out += [text[last:s], self.take(value, wanted, path, style, refs)]
            last = e
        out.append(text[last:])
        return "".join(out)

    def scrub_json(
        self,
        value: Any,
        path: str,
        refs: list[SecretRef],
        namespace: str,
        style: RefStyle = "uri",
        key: str | None = None,
    ) -> Any:
        """Secret-named members become references; token shapes inside strings too."""
        if isinstance(value, dict):
            return {
                k: self.scrub_json(v, path + pointer(k), refs, namespace, style, k)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [
                self.scrub_json(v, path + pointer(i), refs, namespace, style, key)
                for i, v in enumerate(value)
            ]
        if isinstance(value, str):
            if key is not None and is_secret_name(key) and _secret_like(value):
                wanted = f"{namespace}/{key}" if style == "uri" else _env_name(key)
                return self.take(value, wanted, path, style, refs)
            return self.scrub_text(value, path, refs, style)
        return value

    def scrub_all(
        self,
        values: dict[str, Any],
        path: str,
        refs: list[SecretRef],
        namespace: str,
        style: RefStyle,
        prefix: str = "",
    ) -> dict[str, Any]:
        """Every string value of an ``env``/``headers`` map becomes a reference."""
        out: dict[str, Any] = {}
        for k, v in values.items():
            if not isinstance(v, str) or not v or is_reference(v):
                out[k] = v
                continue
            wanted = f"{namespace}/{k}" if style == "uri" else _env_name(prefix + k)
            out[k] = self.take(v, wanted, path + pointer(k), style, refs)
        return out

    def scrub_server(
        self,
        name: str,
        config: dict[str, Any],
        path: str,
        refs: list[SecretRef],
        namespace: str,
        style: RefStyle,
    ) -> dict[str, Any]:
        """An MCP server entry: every env and header value, secret flags in args, URL secrets."""
        ns = f"{namespace}/{name}"
        out: dict[str, Any] = {}
        for k, v in config.items():
            p = path + pointer(k)
            if k in ("env", "headers") and isinstance(v, dict):
                prefix = "" if k == "env" else f"{name}_"
                out[k] = self.scrub_all(v, p, refs, f"{ns}/{k}", style, prefix)
            elif k == "args" and isinstance(v, list):
                out[k] = self._scrub_args(name, v, p, refs, ns, style)
            elif k == "url" and isinstance(v, str):
                out[k] = self._scrub_url(name, v, p, refs, ns, style)
            else:
                out[k] = self.scrub_json(v, p, refs, ns, style, k)
        return out

    def _scrub_args(
        self,
        server: str,
        args: list[Any],
        path: str,
        refs: list[SecretRef],
        ns: str,
        style: RefStyle,
    ) -> list[Any]:
        out: list[Any] = []
        for i, arg in enumerate(args):
            p = path + pointer(i)
            prev = args[i - 1] if i else None
            flag = prev.lstrip("-") if isinstance(prev, str) and prev.startswith("-") else None
            if not isinstance(arg, str):
                out.append(arg)
            elif flag and "=" not in flag and is_secret_name(flag) and _secret_like(arg):
                wanted = f"{ns}/args/{flag}" if style == "uri" else _env_name(f"{server}_{flag}")
                out.append(self.take(arg, wanted, p, style, refs))
            elif arg.startswith("-") and "=" in arg:
                opt, _, val = arg.partition("=")
                bare = opt.lstrip("-")
                if is_secret_name(bare) and _secret_like(val):
                    w = f"{ns}/args/{bare}" if style == "uri" else _env_name(f"{server}_{bare}")
                    out.append(f"{opt}={self.take(val, w, p, style, refs)}")
                else:
                    out.append(self.scrub_text(arg, p, refs, style))
            else:
                out.append(self.scrub_text(arg, p, refs, style))
        return out

    def _scrub_url(
        self, server: str, url: str, path: str, refs: list[SecretRef], ns: str, style: RefStyle
    ) -> str:
        parts = urlsplit(url)
        out = url
        if parts.password and not is_reference(parts.password):
            wanted = f"{ns}/url-password" if style == "uri" else _env_name(f"{server}_password")
            out = out.replace(
                f":{parts.password}@", f":{self.take(parts.password, wanted, path, style, refs)}@"
            )
        if parts.query:
            # each parameter in place, as written: a value percent-encoded, or repeated under
            # another name, is still taken, and restore gives back the same bytes
            pairs = [piece.partition("=") for piece in parts.query.split("&")]
            taken: dict[str, str] = {}
            for raw_key, eq, raw in pairs:
                key = unquote_plus(raw_key)
                if eq and is_secret_name(key) and _secret_like(unquote_plus(raw)):
                    wanted = f"{ns}/url-{key}" if style == "uri" else _env_name(f"{server}_{key}")
                    taken[raw] = self.take(raw, wanted, path, style, refs)
            query = "&".join(f"{k}{eq}{taken.get(v, v)}" for k, eq, v in pairs)
            head, _, rest = out.partition("?")
            out = f"{head}?{query}{rest[len(parts.query) :]}"
        return self.scrub_text(out, path, refs, style)

# Sourced by the scripts: create .venv if missing and (re)install the project when
# pyproject.toml changed. Needs only python3 >= 3.11. $1: extras, e.g. "[dev]".
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${AGENTS_VENV:-$ROOT/.venv}"
_extras="${1:-}"
_python="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
    "$_python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || { echo "error: $_python is older than 3.11; set PYTHON=/path/to/python3.11+" >&2; exit 1; }
    echo "creating $VENV" >&2
    "$_python" -m venv "$VENV"
fi
_hash="$(sha256sum < "$ROOT/pyproject.toml" | cut -c1-16)"
_stamp="$VENV/.installed-$_hash${_extras//[^a-z]/-}"
# the [dev] install is a superset of the plain one; AGENTS_SKIP_INSTALL=1 (the integration
# tests' copies of the repository share this venv) never reinstalls it
if [ -z "${AGENTS_SKIP_INSTALL:-}" ] && [ ! -f "$_stamp" ] && ! { [ -z "$_extras" ] && compgen -G "$VENV/.installed-$_hash-*" >/dev/null; }; then
    # pip's own lines (one per package, on stderr so `--json` output stays clean): the first
    # build takes 1-3 minutes and must not look hung
    echo "installing the project and its dependencies into $VENV (first run: 1-3 minutes)" >&2
    "$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off \
        -e "$ROOT$_extras" >&2
    rm -f "$VENV"/.installed-*
    touch "$_stamp"
    echo "installed into $VENV" >&2
    AGENTS_FRESH_INSTALL=1
fi
export AGENTS_HOME="$ROOT"

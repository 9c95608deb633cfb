# Sourced by agents-hook and agents-mcp: find the claude-agents checkout and its Python.
# Order: $AGENTS_HOME; the checkout this plugin folder sits in (a directory marketplace, which
# Claude Code uses in place); the path `agents claude plugin install` left in the plugin's
# data folder (a copied plugin). Sets AGENTS_HOME and AGENTS_PYTHON, or returns 1.
_here="$(cd "$(dirname "$0")/.." 2>/dev/null && pwd)"
if [ -z "${AGENTS_HOME:-}" ]; then
    _up="$(cd "$_here/../../.." 2>/dev/null && pwd)"
    if [ -n "$_up" ] && [ -f "$_up/pyproject.toml" ] && [ -d "$_up/environments" ]; then
        AGENTS_HOME="$_up"
    elif [ -n "${CLAUDE_PLUGIN_DATA:-}" ] && [ -r "$CLAUDE_PLUGIN_DATA/agents-home" ]; then
        IFS= read -r AGENTS_HOME < "$CLAUDE_PLUGIN_DATA/agents-home" || true
    fi
fi
AGENTS_PYTHON="${AGENTS_VENV:-${AGENTS_HOME:-/nonexistent}/.venv}/bin/python"
if [ -z "${AGENTS_HOME:-}" ] || [ ! -x "$AGENTS_PYTHON" ]; then
    echo "context-sync: the claude-agents checkout (with its .venv) was not found: set AGENTS_HOME, or run \`agents claude plugin install\` from the checkout" >&2
    return 1 2>/dev/null || exit 1
fi
export AGENTS_HOME

"""The dry-run diffs a user reads before an import or an apply: exact, and never a value."""

from __future__ import annotations

from agents.claude.diff import diff_drafts, text_diff
from agents.claude.drafts import Draft, SecretRef

PASSWORD = "hunter2-Correct-Horse"  # no token shape: only the vault's names can hide it


def test_a_known_secret_on_either_side_of_a_file_diff_is_shown_by_its_name() -> None:
    """What is on disk now (the ``-`` side) holds the value as much as what will be written."""
    old = f'{{"env": {{"PGPASSWORD": "{PASSWORD}"}}}}\n'.encode()
    new = f'{{"env": {{"PGPASSWORD": "{PASSWORD}", "PGUSER": "app"}}}}\n'.encode()
    diff = text_diff(old, new, "~/.claude.json", {"pg/password": PASSWORD})
    assert PASSWORD not in diff
    assert diff == (
        "--- a/~/.claude.json\n"
        "+++ b/~/.claude.json\n"
        "@@ -1 +1 @@\n"
        '-{"env": {"PGPASSWORD": "secret://pg/password"}}\n'
        '+{"env": {"PGPASSWORD": "secret://pg/password", "PGUSER": "app"}}\n'
    )


def test_a_file_diff_names_an_absent_side_and_a_missing_final_newline() -> None:
    """As ``diff -u`` prints them: ``/dev/null`` for a file created or deleted."""
    assert text_diff(None, b"one\ntwo", "CLAUDE.md") == (
        "--- /dev/null\n"
        "+++ b/CLAUDE.md\n"
        "@@ -0,0 +1,2 @@\n"
        "+one\n"
        "+two\n"
        "\\ No newline at end of file\n"
    )
    assert text_diff(b"one\n", None, "CLAUDE.md") == (
        "--- a/CLAUDE.md\n+++ /dev/null\n@@ -1 +0,0 @@\n-one\n"
    )


def test_a_file_with_a_nul_byte_or_not_utf8_is_shown_as_binary_with_its_sizes() -> None:
    """Text with a NUL is no text a terminal should print."""
    assert text_diff(b"a\x00b", b"a\x00bc", "logo.png") == (
        "Binary file logo.png differs (3 -> 4 bytes)\n"
    )
    assert text_diff(None, b"\xff\xfe", "x.bin") == "Binary file x.bin differs (0 -> 2 bytes)\n"


def test_a_new_document_shows_its_sorted_fields_its_content_files_and_references() -> None:
    """Fields in key order whatever order the body has (so two captures diff only where
    they differ), text or blob content after them once, a file without a mode as 0000, and
    each reference once."""
    note = Draft(
        "claude_file:user/CLAUDE.md",
        "claude_file",
        {"source": "claude_code", "path": "CLAUDE.md", "text": "# Me\n", "format": "markdown"},
        secret_refs=(SecretRef("/text", "b"), SecretRef("/text", "a"), SecretRef("/x", "a")),
    )
    logo = Draft("claude_file:user/logo.png", "claude_file", {
        "path": "logo.png", "blob": {"blob": "sha256:ab", "bytes": 3},
    })  # fmt: skip
    skill = Draft("skill:s", "skill", {"name": "s", "files": [{"path": "run.sh", "text": "x"}]})
    assert diff_drafts({}, [note, logo, skill]) == (
        "# new: claude_file:user/CLAUDE.md\n"
        "--- /dev/null\n"
        "+++ b/claude_file:user/CLAUDE.md\n"
        "@@ -0,0 +1,7 @@\n"
        "+{\n"
        '+  "format": "markdown",\n'
        '+  "path": "CLAUDE.md",\n'
        '+  "source": "claude_code"\n'
        "+}\n"
        "+# Me\n"
        "+secret refs: secret://a, secret://b\n"
        "# new: claude_file:user/logo.png\n"
        "--- /dev/null\n"
        "+++ b/claude_file:user/logo.png\n"
        "@@ -0,0 +1,4 @@\n"
        "+{\n"
        '+  "path": "logo.png"\n'
        "+}\n"
        "+<blob sha256:ab 3 bytes>\n"
        "# new: skill:s\n"
        "--- /dev/null\n"
        "+++ b/skill:s\n"
        "@@ -0,0 +1,5 @@\n"
        "+{\n"
        '+  "name": "s"\n'
        "+}\n"
        "+=== run.sh (0000)\n"
        "+x\n"
    )

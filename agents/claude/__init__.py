"""Claude context capture and restore: a machine's Claude files <-> store document drafts.

Storage-independent: capture reads a home into drafts (secrets out, placeholders in); apply
writes drafts back under chezmoi's changed-since-applied rule; the vault keeps secret values
(keyring or a 0600 file) and shares them with age; the scanner proves none leaks.

Entry points: :func:`agents.claude.capture.capture`, :func:`agents.claude.apply.plan_apply`,
:func:`agents.claude.apply.execute`, :class:`agents.claude.vault.SecretVault`,
:func:`agents.claude.scan.scan`. See docs/claude-context.md.
"""

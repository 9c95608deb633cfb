"""The shared core every agent is built from: registry, settings, logs, errors, server."""

"""supervisord integration: config rendering, control over XML-RPC, the health listener."""

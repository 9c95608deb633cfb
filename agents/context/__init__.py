"""The context agent: the shared context store over MCP (documents, sessions, agent outputs)."""

"""The Notion agent: pages, databases and document import through notion-client."""

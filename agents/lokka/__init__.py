"""The Lokka agent: Microsoft 365 (Graph) and Azure Resource Manager administration."""

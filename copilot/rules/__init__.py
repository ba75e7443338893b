"""Tone rules: one module per rule (``base`` holds the interface), the registry, the runtime guard and checking."""

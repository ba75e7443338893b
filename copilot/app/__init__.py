"""Edges: the ``Workspace`` service and the three ways in — command line, HTTP API, Gradio workspace — plus the feedback store."""

"""The agent workspace entry point (``python app.py``).

The Gradio workspace and HTTP API arrive with the "API and workspace" issue.
Until then this launches the interactive knowledge search, the same as
``copilot search --interactive``.
"""

from copilot.cli import run

if __name__ == "__main__":
    import sys

    sys.argv = [sys.argv[0], "search", "--interactive"]
    run()

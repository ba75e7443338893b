"""The agent workspace: ``python app.py`` serves the HTTP API and the Gradio workspace (/ui).

The same as ``copilot serve``; host and port come from the settings
(``copilot.toml`` or ``COPILOT_HOST`` / ``COPILOT_PORT``), 127.0.0.1:8000 by default.
"""

import sys

from copilot.app.cli import run

if __name__ == "__main__":
    sys.argv = [sys.argv[0], "serve", *sys.argv[1:]]
    run()

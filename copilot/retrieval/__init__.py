"""Retrieval: hybrid dense + character n-gram search, the colloquial lexicon, and a langchain-core adapter."""

"""Offline evaluations: data plus small evaluators."""

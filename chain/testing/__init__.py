"""Helpers that start real processes (nodes, provers) for the tests and the benchmarks.

They live in the package rather than under tests/ so that bench/ never imports from tests/.
"""

"""The prover layer's one exception type."""


class ProverError(Exception):
    """A circuit's keys are missing or broken, a tool failed, or inputs do not satisfy it."""

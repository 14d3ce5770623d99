"""The one guard every rule of the chain is written with.

A rule reads as a condition that must hold, the error type its breach raises and a message
that names the rule: ``ensure(fee >= min_fee, InvalidOp, "fee is below the minimum")``.
"""


def ensure(condition: bool, error_type: type[Exception], message: str) -> None:
    """Raise ``error_type(message)`` unless ``condition`` holds."""
    if not condition:
        raise error_type(message)

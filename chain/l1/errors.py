"""The L1 layer's exception type, and its subclass for a contract's named refusal."""


class L1Error(Exception):
    """Settlement on L1 went wrong: malformed calldata, a refused block, a missing artifact."""


class L1Revert(L1Error):
    """An L1 contract refused a call with a named error, e.g. `InvalidProofBatch()`."""

    def __init__(self, error: str, args: tuple[object, ...] = ()) -> None:
        super().__init__(f"{error}{args!r}" if args else f"{error}()")
        self.error = error
        self.error_args = args

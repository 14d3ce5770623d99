"""The conformance suite on the reference executor (py-evm)."""

from chain.fast.pyevm_executor import PyEvmExecutor
from tests.conformance.executor_suite import ExecutorConformance


class TestPyEvmExecutor(ExecutorConformance):
    executor_class = PyEvmExecutor

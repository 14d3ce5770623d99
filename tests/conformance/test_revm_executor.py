"""The conformance suite on the fast executor (revm through pyrevm)."""

from chain.fast.revm_executor import RevmExecutor
from tests.conformance.executor_suite import ExecutorConformance


class TestRevmExecutor(ExecutorConformance):
    executor_class = RevmExecutor

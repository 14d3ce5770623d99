"""The conformance suites on the fast executor (revm through pyrevm)."""

from chain.fast.revm_executor import RevmExecutor
from tests.conformance.executor_suite import ExecutorConformance
from tests.conformance.groth16_suite import Groth16Conformance


class TestRevmExecutor(ExecutorConformance):
    executor_class = RevmExecutor


class TestRevmGroth16Precompile(Groth16Conformance):
    executor_class = RevmExecutor

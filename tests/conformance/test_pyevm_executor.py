"""The conformance suites on the reference executor (py-evm)."""

from chain.fast.pyevm_executor import PyEvmExecutor
from tests.conformance.executor_suite import ExecutorConformance
from tests.conformance.groth16_suite import Groth16Conformance


class TestPyEvmExecutor(ExecutorConformance):
    executor_class = PyEvmExecutor


class TestPyEvmGroth16Precompile(Groth16Conformance):
    executor_class = PyEvmExecutor

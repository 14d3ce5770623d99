import pytest

# The suite and its harness live outside test_*.py files; rewrite their asserts too, so a
# mismatch between executors shows both sides.
pytest.register_assert_rewrite("tests.conformance.harness", "tests.conformance.executor_suite")

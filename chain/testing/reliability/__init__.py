"""The reliability suite's scenarios (bench/reliability.py runs them; the tests run their
quick settings): a node killed under load, flooded with hostile requests, out of disk, given
a damaged database, and played for a long while."""

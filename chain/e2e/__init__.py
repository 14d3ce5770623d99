"""The end-to-end runner of the decentralized mode: manifests of a network and its
perturbations (manifest.py), run against a real `duet testnet` with the checks every run
must pass (runner.py). `duet e2e MANIFEST` runs one; tests/e2e/manifests/ holds the suite."""

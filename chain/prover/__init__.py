"""Proving for the ZK chain: the development ceremony and the embedded Groth16 prover.

`ceremony` makes each circuit's keys once (snarkjs-format, computed natively by `native`'s
Rust helper or by snarkjs itself, cached outside the repository);
`groth16` loads them and proves in-process with groth16py; `witness` turns the ZK chain's
operations into circuit inputs. See DESIGN.md, "Proving".
"""

//! Scalars to points, and the Lagrange basis at τ.

use crate::secrets::root_of_unity;
use ark_bn254::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::scalar_mul::ScalarMul;
use ark_ec::PrimeGroup;
use ark_ff::{batch_inversion, Field, One};

/// s·G1 for every scalar s (fixed-base windowed multiplication, in parallel).
pub fn g1_times(scalars: &[Fr]) -> Vec<G1Affine> {
    G1Projective::generator().batch_mul(scalars)
}

pub fn g2_times(scalars: &[Fr]) -> Vec<G2Affine> {
    G2Projective::generator().batch_mul(scalars)
}

pub fn powers(base: Fr, count: usize) -> Vec<Fr> {
    let mut out = Vec::with_capacity(count);
    let mut current = Fr::one();
    for _ in 0..count {
        out.push(current);
        current *= base;
    }
    out
}

/// L_i(τ) for i < 2^log_n, the Lagrange basis of the domain {ω^i} snarkjs uses:
/// L_i(τ) = (τ^n - 1)·ω^i / (n·(τ - ω^i)), which is what its inverse FFT of τ^j gives.
pub fn lagrange_at(tau: Fr, log_n: u32) -> Vec<Fr> {
    let n = 1usize << log_n;
    let roots = powers(root_of_unity(log_n), n);
    let mut denominators: Vec<Fr> = roots.iter().map(|root| tau - root).collect();
    batch_inversion(&mut denominators);
    let scale = (tau.pow([n as u64]) - Fr::one()) * Fr::from(n as u64).inverse().unwrap();
    roots.iter().zip(denominators).map(|(root, inverse)| scale * root * inverse).collect()
}

/// The same basis when the last coefficient (τ^(n-1)) is left out, as `prepare phase2` does
/// for the largest domain of a powers of tau, which holds one power fewer than it needs.
pub fn lagrange_without_last_power(tau: Fr, log_n: u32) -> Vec<Fr> {
    let n = 1usize << log_n;
    let roots = powers(root_of_unity(log_n), n);
    let last = tau.pow([n as u64 - 1]) * Fr::from(n as u64).inverse().unwrap();
    // The left-out term of L_i is τ^(n-1)·ω^(-i(n-1))/n = τ^(n-1)·ω^i/n.
    lagrange_at(tau, log_n).into_iter().zip(roots).map(|(l, root)| l - last * root).collect()
}

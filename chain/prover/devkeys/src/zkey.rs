//! A circuit's Groth16 key (`groth16 setup` → `zkey beacon`), computed from τ, α, β and δ
//! directly: the same file snarkjs writes, section for section.
//!
//! snarkjs evaluates each wire's A, B and C polynomials at τ in the Lagrange basis of the
//! smallest domain larger than the constraints plus one per public signal (the extra rows
//! `signal · 1 = 0` that bind the public inputs), and its H query is the odd half of the
//! Lagrange basis of the domain twice as large. Its circuit hash (csHash) covers the key
//! before the beacon; δ then comes from the beacon, seeded with that hash.

use crate::blake2b::Blake2b;
use crate::encoding::{
    lem, put_u32, uncompressed, write_beacon_params, write_prime, BinFile, SnarkjsPoint,
};
use crate::math::{g1_times, g2_times, lagrange_at, lagrange_without_last_power, powers};
use crate::r1cs::R1cs;
use crate::secrets::{compute_delta_key, compute_ptau_secrets, Beacon};
use ark_bn254::{Fq, Fr, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ff::{BigInteger, Field, One, PrimeField, Zero};

const ZKEY_VERSION: u32 = 1;
const ZKEY_SECTIONS: u32 = 10;
const GROTH16_PROTOCOL: u32 = 1;
const BEACON_CONTRIBUTION: u32 = 1;
const H_HASH_CHUNK: usize = 1 << 14; // snarkjs hashes the H differences this many at a time

pub struct ZkeyParams<'a> {
    pub ptau_power: u32,
    pub ptau_beacon: &'a Beacon,
    pub zkey_beacon: &'a Beacon,
}

/// Every wire's polynomials at τ, and the coefficients section.
struct Evaluations {
    a: Vec<Fr>,
    b: Vec<Fr>,
    c: Vec<Fr>, // β·a + α·b + c: the IC points for public wires, the C points for the others
    coefficients: Vec<u8>,
}

pub fn build_zkey(r1cs: &R1cs, params: &ZkeyParams) -> Result<Vec<u8>, String> {
    let (tau, alpha, beta) = compute_ptau_secrets(params.ptau_beacon);
    let n_public = r1cs.n_public as usize;
    let n_vars = r1cs.n_wires as usize;
    let log_n = compute_domain_power(r1cs);
    if log_n > params.ptau_power {
        return Err(format!(
            "the circuit needs a domain of 2^{log_n}, more than the powers of tau's 2^{}",
            params.ptau_power
        ));
    }
    let n = 1usize << log_n;
    if n - 1 > H_HASH_CHUNK {
        return Err(format!("domains above 2^14 are not supported (got 2^{log_n})"));
    }
    let ev = evaluate_wires(r1cs, tau, alpha, beta, log_n);

    let (alpha_g1, beta_g1) = (g1_times(&[alpha])[0], g1_times(&[beta])[0]);
    let beta_g2 = g2_times(&[beta])[0];
    let (g1, g2) = (G1Affine::generator(), G2Affine::generator());
    // Before the beacon (δ = 1): what the circuit hash covers.
    let ic = g1_times(&ev.c[..=n_public]);
    let c_before = g1_times(&ev.c[n_public + 1..]);
    let a_points = g1_times(&ev.a);
    let b1_points = g1_times(&ev.b);
    let b2_points = g2_times(&ev.b);
    let tau_n_minus_one = tau.pow([n as u64]) - Fr::one();
    let h_differences: Vec<Fr> = powers(tau, n - 1).iter().map(|t| *t * tau_n_minus_one).collect();

    let mut cs = Blake2b::new();
    for point in [alpha_g1, beta_g1] {
        cs.update(&uncompressed(&[point]));
    }
    cs.update(&uncompressed(&[beta_g2, g2]));
    cs.update(&uncompressed(&[g1])); // δ1 before the beacon
    cs.update(&uncompressed(&[g2])); // δ2 before the beacon
    hash_section(&mut cs, &ic);
    cs.update(&((n - 1) as u32).to_be_bytes());
    cs.update(&uncompressed(&g1_times(&h_differences)));
    hash_section(&mut cs, &c_before);
    hash_section(&mut cs, &a_points);
    hash_section(&mut cs, &b1_points);
    hash_section(&mut cs, &b2_points);
    let cs_hash = cs.digest();

    let (delta, transcript) = compute_delta_key(params.zkey_beacon, &cs_hash);
    let inverse_delta = delta.secret.inverse().ok_or("δ is zero")?;
    let delta_g1 = g1_times(&[delta.secret])[0];
    let delta_g2 = g2_times(&[delta.secret])[0];
    let c_scalars: Vec<Fr> = ev.c[n_public + 1..].iter().map(|c| *c * inverse_delta).collect();
    let h_scalars: Vec<Fr> =
        compute_h_query(tau, log_n, params.ptau_power).iter().map(|h| *h * inverse_delta).collect();

    let mut file = BinFile::new(b"zkey", ZKEY_VERSION, ZKEY_SECTIONS);
    file.section(1, |out| put_u32(out, GROTH16_PROTOCOL));
    file.section(2, |out| {
        put_u32(out, 32);
        write_prime::<Fq>(out);
        put_u32(out, 32);
        write_prime::<Fr>(out);
        put_u32(out, n_vars as u32);
        put_u32(out, n_public as u32);
        put_u32(out, n as u32);
        alpha_g1.write_lem(out);
        beta_g1.write_lem(out);
        beta_g2.write_lem(out);
        g2.write_lem(out); // γ = 1
        delta_g1.write_lem(out);
        delta_g2.write_lem(out);
    });
    file.section(3, |out| out.extend(lem(&ic)));
    file.section(4, |out| out.extend_from_slice(&ev.coefficients));
    file.section(5, |out| out.extend(lem(&a_points)));
    file.section(6, |out| out.extend(lem(&b1_points)));
    file.section(7, |out| out.extend(lem(&b2_points)));
    file.section(8, |out| out.extend(lem(&g1_times(&c_scalars))));
    file.section(9, |out| out.extend(lem(&g1_times(&h_scalars))));
    file.section(10, |out| {
        out.extend_from_slice(&cs_hash);
        put_u32(out, 1); // one contribution: the beacon
        delta_g1.write_lem(out);
        delta.g1_s.write_lem(out);
        delta.g1_sx.write_lem(out);
        delta.g2_spx.write_lem(out);
        out.extend_from_slice(&transcript);
        put_u32(out, BEACON_CONTRIBUTION);
        let beacon = params.zkey_beacon;
        write_beacon_params(out, &beacon.name, &beacon.hash, beacon.iterations_exp);
    });
    Ok(file.bytes)
}

/// log2 of the domain: snarkjs takes floor(log2(constraints + public signals)) + 1.
fn compute_domain_power(r1cs: &R1cs) -> u32 {
    let rows = r1cs.constraints.len() as u32 + r1cs.n_public;
    let floor_log2 = if rows == 0 { 0 } else { 31 - rows.leading_zeros() };
    floor_log2 + 1
}

fn evaluate_wires(r1cs: &R1cs, tau: Fr, alpha: Fr, beta: Fr, log_n: u32) -> Evaluations {
    let n_vars = r1cs.n_wires as usize;
    let lagrange = lagrange_at(tau, log_n);
    let (mut a, mut b, mut c) =
        (vec![Fr::zero(); n_vars], vec![Fr::zero(); n_vars], vec![Fr::zero(); n_vars]);
    let mut entries: Vec<(u32, u32, u32, Fr)> = Vec::new();
    for (row, [lc_a, lc_b, lc_c]) in r1cs.constraints.iter().enumerate() {
        let l = lagrange[row];
        for &(wire, coefficient) in lc_a {
            let term = coefficient * l;
            a[wire as usize] += term;
            c[wire as usize] += beta * term;
            entries.push((0, row as u32, wire, coefficient));
        }
        for &(wire, coefficient) in lc_b {
            let term = coefficient * l;
            b[wire as usize] += term;
            c[wire as usize] += alpha * term;
            entries.push((1, row as u32, wire, coefficient));
        }
        for &(wire, coefficient) in lc_c {
            c[wire as usize] += coefficient * l;
        }
    }
    let first_extra_row = r1cs.constraints.len();
    for wire in 0..=r1cs.n_public as usize {
        let l = lagrange[first_extra_row + wire];
        a[wire] += l;
        c[wire] += beta * l;
        entries.push((0, (first_extra_row + wire) as u32, wire as u32, Fr::one()));
    }
    Evaluations { a, b, c, coefficients: write_coefficients(&entries) }
}

/// The A and B matrices for the prover, each value times R² (snarkjs's prover reads them as
/// Montgomery numbers twice over).
fn write_coefficients(entries: &[(u32, u32, u32, Fr)]) -> Vec<u8> {
    let r_squared = Fr::from(2u64).pow([512u64]);
    let mut out = Vec::with_capacity(4 + entries.len() * 44);
    put_u32(&mut out, entries.len() as u32);
    for &(matrix, row, wire, value) in entries {
        put_u32(&mut out, matrix);
        put_u32(&mut out, row);
        put_u32(&mut out, wire);
        out.extend_from_slice(&(value * r_squared).into_bigint().to_bytes_le());
    }
    out
}

/// The H query before δ: the odd Lagrange points of the domain twice as large (the powers of
/// tau's last domain lacks its top power, so a circuit at the ceremony's size uses that one).
fn compute_h_query(tau: Fr, log_n: u32, ptau_power: u32) -> Vec<Fr> {
    let doubled = if log_n == ptau_power {
        lagrange_without_last_power(tau, log_n + 1)
    } else {
        lagrange_at(tau, log_n + 1)
    };
    doubled.into_iter().skip(1).step_by(2).collect()
}

/// A section of the circuit hash: the point count (big-endian) and the points, uncompressed.
fn hash_section<P: SnarkjsPoint>(hasher: &mut Blake2b, points: &[P]) {
    hasher.update(&(points.len() as u32).to_be_bytes());
    hasher.update(&uncompressed(points));
}

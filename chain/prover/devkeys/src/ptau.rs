//! A prepared powers of tau (`powersoftau new` → `beacon` → `prepare phase2`), computed from
//! τ, α, β directly: the same file snarkjs writes, section for section.

use crate::blake2b::{blake2b, Blake2b};
use crate::encoding::{
    compressed, lem, put_u32, uncompressed, write_beacon_params, write_prime, BinFile, SnarkjsPoint,
};
use crate::math::{g1_times, g2_times, lagrange_at, lagrange_without_last_power, powers};
use crate::secrets::{compute_ptau_key, Beacon, PtauKey, SecretKey};
use ark_bn254::{Fq, Fr, G1Affine, G2Affine};
use ark_ec::AffineRepr;

const PTAU_VERSION: u32 = 1;
const PTAU_SECTIONS: u32 = 11;
const BEACON_CONTRIBUTION: u32 = 1;
const RESPONSE_CHUNK_BYTES: usize = 1 << 20; // snarkjs hashes each section in chunks this big

/// The accumulator after the beacon, before `prepare phase2`.
struct Accumulator {
    tau_g1: Vec<G1Affine>,
    tau_g2: Vec<G2Affine>,
    alpha_tau_g1: Vec<G1Affine>,
    beta_tau_g1: Vec<G1Affine>,
    beta_g2: G2Affine,
}

pub fn build_ptau(power: u32, beacon: &Beacon) -> Vec<u8> {
    let challenge = compute_first_challenge_hash(power);
    let key = compute_ptau_key(beacon, &challenge);
    let accumulator = compute_accumulator(power, &key);
    let (partial_hash, response) = compute_response_hash(&challenge, &accumulator, &key);
    let next_challenge = compute_next_challenge_hash(&response, &accumulator);

    let mut file = BinFile::new(b"ptau", PTAU_VERSION, PTAU_SECTIONS);
    file.section(1, |out| {
        put_u32(out, 32);
        write_prime::<Fq>(out);
        put_u32(out, power);
        put_u32(out, power); // the ceremony's power: the file is not truncated
    });
    file.section(2, |out| out.extend(lem(&accumulator.tau_g1)));
    file.section(3, |out| out.extend(lem(&accumulator.tau_g2)));
    file.section(4, |out| out.extend(lem(&accumulator.alpha_tau_g1)));
    file.section(5, |out| out.extend(lem(&accumulator.beta_tau_g1)));
    file.section(6, |out| accumulator.beta_g2.write_lem(out));
    file.section(7, |out| {
        put_u32(out, 1); // one contribution: the beacon
        accumulator.tau_g1[1].write_lem(out);
        accumulator.tau_g2[1].write_lem(out);
        accumulator.alpha_tau_g1[0].write_lem(out);
        accumulator.beta_tau_g1[0].write_lem(out);
        accumulator.beta_g2.write_lem(out);
        out.extend(public_key(&key, |p, out| p.write_lem(out), |p, out| p.write_lem(out)));
        out.extend_from_slice(&partial_hash);
        out.extend_from_slice(&next_challenge);
        put_u32(out, BEACON_CONTRIBUTION);
        write_beacon_params(out, &beacon.name, &beacon.hash, beacon.iterations_exp);
    });
    write_lagrange_sections(&mut file, power, &key);
    file.bytes
}

/// The hash of the blank accumulator (every point a generator), which the first contribution
/// answers.
fn compute_first_challenge_hash(power: u32) -> [u8; 64] {
    let n = 1usize << power;
    let mut g1 = Vec::new();
    G1Affine::generator().write_uncompressed(&mut g1);
    let mut g2 = Vec::new();
    G2Affine::generator().write_uncompressed(&mut g2);
    let mut hasher = Blake2b::new();
    hasher.update(&blake2b(b""));
    for (point, count) in [(&g1, 2 * n - 1), (&g2, n), (&g1, n), (&g1, n), (&g2, 1)] {
        hasher.update(&point.repeat(count));
    }
    hasher.digest()
}

fn compute_accumulator(power: u32, key: &PtauKey) -> Accumulator {
    let n = 1usize << power;
    let tau_powers = powers(key.tau.secret, 2 * n - 1);
    let times = |factor: Fr| tau_powers[..n].iter().map(|t| factor * t).collect::<Vec<_>>();
    let mut g1_scalars = tau_powers.clone();
    g1_scalars.extend(times(key.alpha.secret));
    g1_scalars.extend(times(key.beta.secret));
    let mut g1 = g1_times(&g1_scalars);
    let beta_tau_g1 = g1.split_off(3 * n - 1);
    let alpha_tau_g1 = g1.split_off(2 * n - 1);
    let mut g2_scalars = tau_powers[..n].to_vec();
    g2_scalars.push(key.beta.secret);
    let mut tau_g2 = g2_times(&g2_scalars);
    let beta_g2 = tau_g2.pop().unwrap();
    Accumulator { tau_g1: g1, tau_g2, alpha_tau_g1, beta_tau_g1, beta_g2 }
}

/// The contribution's response hash: the previous challenge, every new point compressed (in
/// snarkjs's chunks, since the partial hash snapshots its buffer), then the public key.
fn compute_response_hash(
    challenge: &[u8; 64],
    accumulator: &Accumulator,
    key: &PtauKey,
) -> ([u8; 216], [u8; 64]) {
    let mut hasher = Blake2b::new();
    hasher.update(challenge);
    hash_compressed_chunks(&mut hasher, &accumulator.tau_g1);
    hash_compressed_chunks(&mut hasher, &accumulator.tau_g2);
    hash_compressed_chunks(&mut hasher, &accumulator.alpha_tau_g1);
    hash_compressed_chunks(&mut hasher, &accumulator.beta_tau_g1);
    hash_compressed_chunks(&mut hasher, &[accumulator.beta_g2]);
    let partial_hash = hasher.partial_hash();
    let key_bytes =
        public_key(key, |p, out| p.write_uncompressed(out), |p, out| p.write_uncompressed(out));
    hasher.update(&key_bytes);
    (partial_hash, hasher.digest())
}

fn hash_compressed_chunks<P: SnarkjsPoint>(hasher: &mut Blake2b, points: &[P]) {
    for chunk in points.chunks(RESPONSE_CHUNK_BYTES / P::LEN) {
        hasher.update(&compressed(chunk));
    }
}

fn compute_next_challenge_hash(response: &[u8; 64], accumulator: &Accumulator) -> [u8; 64] {
    let mut hasher = Blake2b::new();
    hasher.update(response);
    hasher.update(&uncompressed(&accumulator.tau_g1));
    hasher.update(&uncompressed(&accumulator.tau_g2));
    hasher.update(&uncompressed(&accumulator.alpha_tau_g1));
    hasher.update(&uncompressed(&accumulator.beta_tau_g1));
    hasher.update(&uncompressed(&[accumulator.beta_g2]));
    hasher.digest()
}

/// The contribution's public key: each secret's G1 pair, then each one's G2 point.
fn public_key(
    key: &PtauKey,
    write_g1: impl Fn(&G1Affine, &mut Vec<u8>),
    write_g2: impl Fn(&G2Affine, &mut Vec<u8>),
) -> Vec<u8> {
    let mut out = Vec::new();
    let keys: [&SecretKey; 3] = [&key.tau, &key.alpha, &key.beta];
    for k in keys {
        write_g1(&k.g1_s, &mut out);
        write_g1(&k.g1_sx, &mut out);
    }
    for k in keys {
        write_g2(&k.g2_spx, &mut out);
    }
    out
}

/// `prepare phase2`: for every domain 2^0 … 2^power, the Lagrange basis at τ times G1, G2,
/// α·G1 and β·G1; G1 also gets the domain 2^(power+1), built from the powers it has.
fn write_lagrange_sections(file: &mut BinFile, power: u32, key: &PtauKey) {
    let tau = key.tau.secret;
    let basis: Vec<Fr> = (0..=power).flat_map(|k| lagrange_at(tau, k)).collect();
    let mut tau_scalars = basis.clone();
    tau_scalars.extend(lagrange_without_last_power(tau, power + 1));
    let times = |factor: Fr| basis.iter().map(|l| factor * l).collect::<Vec<_>>();
    let mut g1_scalars = tau_scalars;
    let tau_len = g1_scalars.len();
    g1_scalars.extend(times(key.alpha.secret));
    g1_scalars.extend(times(key.beta.secret));
    let mut g1 = g1_times(&g1_scalars);
    let beta = g1.split_off(tau_len + basis.len());
    let alpha = g1.split_off(tau_len);
    file.section(12, |out| out.extend(lem(&g1)));
    file.section(13, |out| out.extend(lem(&g2_times(&basis))));
    file.section(14, |out| out.extend(lem(&alpha)));
    file.section(15, |out| out.extend(lem(&beta)));
}

//! The development ceremony's secrets, drawn from its public beacons exactly as snarkjs draws
//! them: SHA-256 iterated over the beacon hash seeds a ChaCha generator, whose words become
//! field elements (read, as ffjavascript reads them, as Montgomery representations) and curve
//! points (an x, a sign bit, until x^3 + b is a square).

use crate::blake2b::Blake2b;
use crate::chacha::ChaCha;
use crate::encoding::{is_negative_fq, is_negative_fq2, SnarkjsPoint};
use ark_bn254::{g1, g2, Fq, Fq2, Fr, G1Affine, G2Affine};
use ark_ec::short_weierstrass::SWCurveConfig;
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{BigInt, BigInteger, Field, PrimeField};
use sha2::{Digest, Sha256};

/// G2's cofactor as ffjavascript's bn128 multiplies by it (2q - r).
const G2_COFACTOR_HEX: &str = "30644e72e131a029b85045b68181585e06ceecda572a2489345f2299c0f9fa8d";

#[derive(Clone, Debug)]
pub struct Beacon {
    pub hash: Vec<u8>,
    pub iterations_exp: u32,
    pub name: String,
}

impl Beacon {
    /// snarkjs's `rngFromBeaconParams`: SHA-256 applied 2^iterations_exp times.
    pub fn rng(&self) -> ChaCha {
        let mut current = self.hash.clone();
        for _ in 0..(1u64 << self.iterations_exp) {
            current = Sha256::digest(&current).to_vec();
        }
        ChaCha::from_hash(&current)
    }
}

/// One secret with its proof of knowledge: s·G1 for a random G1 point s, and the same secret
/// applied to a G2 point derived from a hash of the transcript.
#[derive(Clone, Copy, Debug)]
pub struct SecretKey {
    pub secret: Fr,
    pub g1_s: G1Affine,
    pub g1_sx: G1Affine,
    pub g2_spx: G2Affine,
}

pub struct PtauKey {
    pub tau: SecretKey,
    pub alpha: SecretKey,
    pub beta: SecretKey,
}

/// τ, α, β: snarkjs's `createPTauKey` (the three secrets first, then each one's proof of
/// knowledge, bound to the challenge hash and a personalization byte 0, 1, 2).
pub fn compute_ptau_key(beacon: &Beacon, challenge: &[u8; 64]) -> PtauKey {
    let mut rng = beacon.rng();
    let secrets = [fr_from_rng(&mut rng), fr_from_rng(&mut rng), fr_from_rng(&mut rng)];
    let mut keys = secrets.iter().enumerate().map(|(personalization, &secret)| {
        let g1_s = g1_from_rng(&mut rng);
        let g1_sx = (g1_s * secret).into_affine();
        let mut hasher = Blake2b::new();
        hasher.update(&[personalization as u8]).update(challenge);
        let mut points = Vec::new();
        g1_s.write_uncompressed(&mut points);
        g1_sx.write_uncompressed(&mut points);
        hasher.update(&points);
        let g2_sp = hash_to_g2(&hasher.digest());
        SecretKey { secret, g1_s, g1_sx, g2_spx: (g2_sp * secret).into_affine() }
    });
    PtauKey { tau: keys.next().unwrap(), alpha: keys.next().unwrap(), beta: keys.next().unwrap() }
}

/// The τ, α, β of a powers of tau made from `beacon` alone: they do not depend on the power
/// (only their proofs of knowledge do, through the challenge hash).
pub fn compute_ptau_secrets(beacon: &Beacon) -> (Fr, Fr, Fr) {
    let mut rng = beacon.rng();
    (fr_from_rng(&mut rng), fr_from_rng(&mut rng), fr_from_rng(&mut rng))
}

/// δ for a `zkey beacon`: the secret, then its G1 pair, then a transcript hash of the circuit
/// hash and that pair, from which the G2 point comes.
pub fn compute_delta_key(beacon: &Beacon, cs_hash: &[u8; 64]) -> (SecretKey, [u8; 64]) {
    let mut rng = beacon.rng();
    let secret = fr_from_rng(&mut rng);
    let g1_s = g1_from_rng(&mut rng);
    let g1_sx = (g1_s * secret).into_affine();
    let mut points = Vec::new();
    g1_s.write_uncompressed(&mut points);
    g1_sx.write_uncompressed(&mut points);
    let mut hasher = Blake2b::new();
    hasher.update(cs_hash).update(&points);
    let transcript = hasher.digest();
    let g2_sp = hash_to_g2(&transcript);
    let key = SecretKey { secret, g1_s, g1_sx, g2_spx: (g2_sp * secret).into_affine() };
    (key, transcript)
}

pub fn hash_to_g2(hash: &[u8; 64]) -> G2Affine {
    g2_from_rng(&mut ChaCha::from_hash(hash))
}

/// Four u64 words below 2^254 and below the modulus, taken as the Montgomery form of the result.
fn limbs_from_rng<F: PrimeField<BigInt = BigInt<4>>>(rng: &mut ChaCha) -> BigInt<4> {
    let top_bits = F::MODULUS_BIT_SIZE - 192;
    loop {
        let mut limbs = [0u64; 4];
        limbs.iter_mut().for_each(|limb| *limb = rng.next_u64());
        limbs[3] &= (1u64 << top_bits) - 1;
        if BigInt(limbs) < F::MODULUS {
            return BigInt(limbs);
        }
    }
}

pub fn fr_from_rng(rng: &mut ChaCha) -> Fr {
    Fr::new_unchecked(limbs_from_rng::<Fr>(rng))
}

fn fq_from_rng(rng: &mut ChaCha) -> Fq {
    Fq::new_unchecked(limbs_from_rng::<Fq>(rng))
}

fn g1_from_rng(rng: &mut ChaCha) -> G1Affine {
    loop {
        let x = fq_from_rng(rng);
        let greatest = rng.next_bool();
        let x3b = x.square() * x + g1::Config::COEFF_B;
        if let Some(mut y) = x3b.sqrt() {
            if is_negative_fq(&y) != greatest {
                y = -y;
            }
            return G1Affine::new_unchecked(x, y);
        }
    }
}

fn g2_from_rng(rng: &mut ChaCha) -> G2Affine {
    loop {
        let x = Fq2::new(fq_from_rng(rng), fq_from_rng(rng));
        let greatest = rng.next_bool();
        let x3b = x.square() * x + g2::Config::COEFF_B;
        if let Some(mut y) = x3b.sqrt() {
            if is_negative_fq2(&y) != greatest {
                y = -y;
            }
            let point = G2Affine::new_unchecked(x, y);
            return point.mul_bigint(g2_cofactor()).into_affine();
        }
    }
}

fn g2_cofactor() -> BigInt<4> {
    let mut bytes = [0u8; 32];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&G2_COFACTOR_HEX[2 * i..2 * i + 2], 16).unwrap();
    }
    let mut limbs = [0u64; 4];
    for (i, limb) in limbs.iter_mut().enumerate() {
        let start = 32 - 8 * (i + 1);
        *limb = u64::from_be_bytes(bytes[start..start + 8].try_into().unwrap());
    }
    BigInt(limbs)
}

/// The 2^k-th root of unity that ffjavascript uses: nqr^t for the smallest quadratic
/// non-residue nqr (r - 1 = t·2^s, t odd), squared down to the order wanted.
pub fn root_of_unity(log_n: u32) -> Fr {
    let mut nqr = Fr::from(2u64);
    while nqr.legendre().is_qr() {
        nqr += Fr::from(1u64);
    }
    let mut t = Fr::MODULUS;
    t.sub_with_borrow(&BigInt::from(1u64));
    let mut s = 0;
    while t.is_even() {
        t.div2();
        s += 1;
    }
    assert!(log_n <= s, "no 2^{log_n}-th root of unity in Fr");
    let mut w = nqr.pow(t);
    for _ in log_n..s {
        w.square_in_place();
    }
    w
}

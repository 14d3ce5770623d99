//! How snarkjs lays out numbers and points in its files, and the iden3 binary file container.
//!
//! Three point encodings: "LEM" (in .ptau/.zkey sections: affine coordinates in Montgomery
//! form, little-endian, infinity as all zeros), "uncompressed" (what the hashes take:
//! big-endian coordinates, an Fq2 as c1 then c0) and "compressed" (x only, with flags).

use ark_bn254::{g1, g2, Fq, Fq2};
use ark_ec::short_weierstrass::Affine;
use ark_ff::{BigInteger, PrimeField};

pub const G1_LEN: usize = 64;
pub const G2_LEN: usize = 128;
const FLAG_NEGATIVE_Y: u8 = 0x80;
const FLAG_INFINITY: u8 = 0x40;

pub trait SnarkjsPoint: Copy + Send + Sync {
    const LEN: usize;
    fn write_lem(&self, out: &mut Vec<u8>);
    fn write_uncompressed(&self, out: &mut Vec<u8>);
    fn write_compressed(&self, out: &mut Vec<u8>);
}

impl SnarkjsPoint for Affine<g1::Config> {
    const LEN: usize = G1_LEN;

    fn write_lem(&self, out: &mut Vec<u8>) {
        if self.infinity {
            out.extend_from_slice(&[0; G1_LEN]);
            return;
        }
        write_fq_lem(&self.x, out);
        write_fq_lem(&self.y, out);
    }

    fn write_uncompressed(&self, out: &mut Vec<u8>) {
        if self.infinity {
            out.extend_from_slice(&[0; G1_LEN]);
            return;
        }
        write_fq_be(&self.x, out);
        write_fq_be(&self.y, out);
    }

    fn write_compressed(&self, out: &mut Vec<u8>) {
        let start = out.len();
        if self.infinity {
            out.extend_from_slice(&[0; G1_LEN / 2]);
            out[start] = FLAG_INFINITY;
            return;
        }
        write_fq_be(&self.x, out);
        if is_negative_fq(&self.y) {
            out[start] |= FLAG_NEGATIVE_Y;
        }
    }
}

impl SnarkjsPoint for Affine<g2::Config> {
    const LEN: usize = G2_LEN;

    fn write_lem(&self, out: &mut Vec<u8>) {
        if self.infinity {
            out.extend_from_slice(&[0; G2_LEN]);
            return;
        }
        for coordinate in [&self.x, &self.y] {
            write_fq_lem(&coordinate.c0, out);
            write_fq_lem(&coordinate.c1, out);
        }
    }

    fn write_uncompressed(&self, out: &mut Vec<u8>) {
        if self.infinity {
            out.extend_from_slice(&[0; G2_LEN]);
            return;
        }
        for coordinate in [&self.x, &self.y] {
            write_fq_be(&coordinate.c1, out);
            write_fq_be(&coordinate.c0, out);
        }
    }

    fn write_compressed(&self, out: &mut Vec<u8>) {
        let start = out.len();
        if self.infinity {
            out.extend_from_slice(&[0; G2_LEN / 2]);
            out[start] = FLAG_INFINITY;
            return;
        }
        write_fq_be(&self.x.c1, out);
        write_fq_be(&self.x.c0, out);
        if is_negative_fq2(&self.y) {
            out[start] |= FLAG_NEGATIVE_Y;
        }
    }
}

/// The raw Montgomery limbs, as ffjavascript keeps field elements in memory.
fn write_fq_lem(value: &Fq, out: &mut Vec<u8>) {
    for limb in value.0 .0 {
        out.extend_from_slice(&limb.to_le_bytes());
    }
}

fn write_fq_be(value: &Fq, out: &mut Vec<u8>) {
    out.extend_from_slice(&value.into_bigint().to_bytes_be());
}

/// ffjavascript's sign: an element is "negative" when it is above (q - 1) / 2.
pub fn is_negative_fq(value: &Fq) -> bool {
    value.into_bigint() > Fq::MODULUS_MINUS_ONE_DIV_TWO
}

/// For Fq2 the sign of c1 decides, or that of c0 when c1 is zero.
pub fn is_negative_fq2(value: &Fq2) -> bool {
    if value.c1 == Fq::from(0u64) {
        is_negative_fq(&value.c0)
    } else {
        is_negative_fq(&value.c1)
    }
}

pub fn lem<P: SnarkjsPoint>(points: &[P]) -> Vec<u8> {
    let mut out = Vec::with_capacity(points.len() * P::LEN);
    points.iter().for_each(|p| p.write_lem(&mut out));
    out
}

pub fn uncompressed<P: SnarkjsPoint>(points: &[P]) -> Vec<u8> {
    let mut out = Vec::with_capacity(points.len() * P::LEN);
    points.iter().for_each(|p| p.write_uncompressed(&mut out));
    out
}

pub fn compressed<P: SnarkjsPoint>(points: &[P]) -> Vec<u8> {
    let mut out = Vec::with_capacity(points.len() * P::LEN / 2);
    points.iter().for_each(|p| p.write_compressed(&mut out));
    out
}

pub fn write_prime<F: PrimeField>(out: &mut Vec<u8>) {
    out.extend_from_slice(&F::MODULUS.to_bytes_le());
}

/// The iden3 binary container (binfileutils): a 4-byte magic, a version, a section count,
/// then sections, each a u32 id and a u64 byte length before its data.
pub struct BinFile {
    pub bytes: Vec<u8>,
    section_start: Option<usize>,
}

impl BinFile {
    pub fn new(magic: &[u8; 4], version: u32, n_sections: u32) -> Self {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(magic);
        bytes.extend_from_slice(&version.to_le_bytes());
        bytes.extend_from_slice(&n_sections.to_le_bytes());
        BinFile { bytes, section_start: None }
    }

    pub fn section(&mut self, id: u32, write: impl FnOnce(&mut Vec<u8>)) {
        assert!(self.section_start.is_none());
        self.bytes.extend_from_slice(&id.to_le_bytes());
        self.bytes.extend_from_slice(&0u64.to_le_bytes());
        let start = self.bytes.len();
        self.section_start = Some(start);
        write(&mut self.bytes);
        let size = (self.bytes.len() - start) as u64;
        self.bytes[start - 8..start].copy_from_slice(&size.to_le_bytes());
        self.section_start = None;
    }
}

pub fn put_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

/// A contribution's optional parameters: its name (at most 64 characters), then for a beacon
/// the iteration exponent and the beacon hash, as snarkjs writes them.
pub fn write_beacon_params(out: &mut Vec<u8>, name: &str, beacon_hash: &[u8], iterations_exp: u32) {
    let mut params = Vec::new();
    if !name.is_empty() {
        let name: String = name.chars().take(64).collect();
        params.push(1);
        params.push(name.len() as u8);
        params.extend_from_slice(name.as_bytes());
    }
    params.extend_from_slice(&[2, iterations_exp as u8, 3, beacon_hash.len() as u8]);
    params.extend_from_slice(beacon_hash);
    put_u32(out, params.len() as u32);
    out.extend_from_slice(&params);
}

/// The sections of an iden3 binary file by id (each expected once).
pub fn read_sections<'a>(
    bytes: &'a [u8],
    magic: &[u8; 4],
) -> Result<std::collections::HashMap<u32, &'a [u8]>, String> {
    let truncated = || "file is truncated".to_string();
    if bytes.get(..4) != Some(magic.as_slice()) {
        return Err(format!("not a {} file", String::from_utf8_lossy(magic)));
    }
    let read_u32 = |at: usize| -> Result<u32, String> {
        Ok(u32::from_le_bytes(bytes.get(at..at + 4).ok_or_else(truncated)?.try_into().unwrap()))
    };
    let mut sections = std::collections::HashMap::new();
    let mut pos = 12;
    for _ in 0..read_u32(8)? {
        let id = read_u32(pos)?;
        let size = bytes.get(pos + 4..pos + 12).ok_or_else(truncated)?;
        let size = u64::from_le_bytes(size.try_into().unwrap()) as usize;
        let data = bytes.get(pos + 12..pos + 12 + size).ok_or_else(truncated)?;
        if sections.insert(id, data).is_some() {
            return Err(format!("section {id} appears twice"));
        }
        pos += 12 + size;
    }
    Ok(sections)
}

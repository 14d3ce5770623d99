//! `zkey export verificationkey` for a Groth16 zkey: the same JSON, the same bytes.

use crate::encoding::{read_sections, G1_LEN, G2_LEN};
use ark_bn254::{Bn254, Fq, Fq12, Fq2, G1Affine, G2Affine};
use ark_ec::pairing::Pairing;
use ark_ff::{BigInt, PrimeField};

const HEADER_SECTION: u32 = 2;
const IC_SECTION: u32 = 3;

/// A JSON value as snarkjs prints it (`JSON.stringify(value, null, 1)`).
enum Json {
    String(String),
    Number(u32),
    List(Vec<Json>),
    Object(Vec<(&'static str, Json)>),
}

pub fn export_verification_key(zkey: &[u8]) -> Result<String, String> {
    let sections = read_sections(zkey, b"zkey")?;
    let header = sections.get(&HEADER_SECTION).ok_or("zkey has no Groth16 header")?;
    let mut pos = 4 + 32 + 4 + 32; // the two primes, each after its byte length
    let mut next = |len: usize| -> Result<&[u8], String> {
        let bytes = header.get(pos..pos + len).ok_or("zkey header is truncated")?;
        pos += len;
        Ok(bytes)
    };
    next(4)?; // variables
    let n_public = u32::from_le_bytes(next(4)?.try_into().unwrap());
    next(4)?; // domain size
    let alpha_1 = read_g1(next(G1_LEN)?);
    next(G1_LEN)?; // β1: the prover's, not the verifier's
    let beta_2 = read_g2(next(G2_LEN)?);
    let gamma_2 = read_g2(next(G2_LEN)?);
    next(G1_LEN)?; // δ1
    let delta_2 = read_g2(next(G2_LEN)?);
    let ic_bytes = sections.get(&IC_SECTION).ok_or("zkey has no IC section")?;
    if ic_bytes.len() != (n_public as usize + 1) * G1_LEN {
        return Err("zkey IC section does not match its public signal count".into());
    }
    let ic = ic_bytes.chunks_exact(G1_LEN).map(|p| g1_json(&read_g1(p))).collect();
    let alphabeta = Bn254::pairing(alpha_1, beta_2).0;
    let key = Json::Object(vec![
        ("protocol", text("groth16")),
        ("curve", text("bn128")),
        ("nPublic", Json::Number(n_public)),
        ("vk_alpha_1", g1_json(&alpha_1)),
        ("vk_beta_2", g2_json(&beta_2)),
        ("vk_gamma_2", g2_json(&gamma_2)),
        ("vk_delta_2", g2_json(&delta_2)),
        ("vk_alphabeta_12", fq12_json(&alphabeta)),
        ("IC", Json::List(ic)),
    ]);
    let mut out = String::new();
    write_json(&key, 0, &mut out);
    Ok(out)
}

fn read_fq(lem: &[u8]) -> Fq {
    let mut limbs = [0u64; 4];
    for (limb, bytes) in limbs.iter_mut().zip(lem.chunks_exact(8)) {
        *limb = u64::from_le_bytes(bytes.try_into().unwrap());
    }
    Fq::new_unchecked(BigInt(limbs))
}

fn read_g1(lem: &[u8]) -> G1Affine {
    if lem.iter().all(|&b| b == 0) {
        return G1Affine::identity();
    }
    G1Affine::new_unchecked(read_fq(&lem[..32]), read_fq(&lem[32..]))
}

fn read_g2(lem: &[u8]) -> G2Affine {
    if lem.iter().all(|&b| b == 0) {
        return G2Affine::identity();
    }
    let fq2 = |at: usize| Fq2::new(read_fq(&lem[at..at + 32]), read_fq(&lem[at + 32..at + 64]));
    G2Affine::new_unchecked(fq2(0), fq2(64))
}

fn number(value: &Fq) -> Json {
    Json::String(value.into_bigint().to_string())
}

fn fq2_json(value: &Fq2) -> Json {
    Json::List(vec![number(&value.c0), number(&value.c1)])
}

fn text(value: &str) -> Json {
    Json::String(value.into())
}

/// Affine points in projective form [x, y, 1]; infinity as [0, 1, 0], as ffjavascript does.
fn g1_json(point: &G1Affine) -> Json {
    if point.infinity {
        return Json::List(vec![text("0"), text("1"), text("0")]);
    }
    Json::List(vec![number(&point.x), number(&point.y), text("1")])
}

fn g2_json(point: &G2Affine) -> Json {
    let pair = |a: &str, b: &str| Json::List(vec![text(a), text(b)]);
    if point.infinity {
        return Json::List(vec![pair("0", "0"), pair("1", "0"), pair("0", "0")]);
    }
    Json::List(vec![fq2_json(&point.x), fq2_json(&point.y), pair("1", "0")])
}

fn fq12_json(value: &Fq12) -> Json {
    let fq6 =
        |v: &ark_bn254::Fq6| Json::List(vec![fq2_json(&v.c0), fq2_json(&v.c1), fq2_json(&v.c2)]);
    Json::List(vec![fq6(&value.c0), fq6(&value.c1)])
}

fn write_json(value: &Json, depth: usize, out: &mut String) {
    let indent = |depth: usize| " ".repeat(depth);
    match value {
        Json::String(s) => {
            out.push('"');
            out.push_str(s);
            out.push('"');
        }
        Json::Number(n) => out.push_str(&n.to_string()),
        Json::List(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                out.push_str(&indent(depth + 1));
                write_json(item, depth + 1, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&indent(depth));
            out.push(']');
        }
        Json::Object(fields) => {
            out.push_str("{\n");
            for (i, (key, item)) in fields.iter().enumerate() {
                out.push_str(&format!("{}\"{key}\": ", indent(depth + 1)));
                write_json(item, depth + 1, out);
                out.push_str(if i + 1 < fields.len() { ",\n" } else { "\n" });
            }
            out.push_str(&indent(depth));
            out.push('}');
        }
    }
}

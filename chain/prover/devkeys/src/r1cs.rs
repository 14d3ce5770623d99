//! A circom `.r1cs` file: its header and its constraints (the wire labels are not needed).

use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField};

const HEADER_SECTION: u32 = 1;
const CONSTRAINTS_SECTION: u32 = 2;

pub type LinearCombination = Vec<(u32, Fr)>;

pub struct R1cs {
    pub n_wires: u32,
    pub n_public: u32, // public outputs and public inputs, not counting the constant 1
    pub constraints: Vec<[LinearCombination; 3]>, // A, B, C, terms in file order
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self.pos.checked_add(n).filter(|&end| end <= self.bytes.len());
        let end = end.ok_or("r1cs file is truncated")?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }

    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }
}

pub fn parse_r1cs(bytes: &[u8]) -> Result<R1cs, String> {
    let mut file = Reader { bytes, pos: 0 };
    if file.take(4)? != b"r1cs" {
        return Err("not an r1cs file".into());
    }
    file.u32()?; // version
    let mut header = None;
    let mut constraints_at = None;
    for _ in 0..file.u32()? {
        let (id, size) = (file.u32()?, file.u64()? as usize);
        match id {
            HEADER_SECTION => header = Some(file.pos),
            CONSTRAINTS_SECTION => constraints_at = Some(file.pos),
            _ => {}
        }
        file.take(size)?;
    }
    let mut reader = Reader { bytes, pos: header.ok_or("r1cs file has no header")? };
    let n8 = reader.u32()? as usize;
    if n8 != 32 || reader.take(n8)? != Fr::MODULUS.to_bytes_le().as_slice() {
        return Err("r1cs file is not over BN254's scalar field".into());
    }
    let n_wires = reader.u32()?;
    let n_public = reader.u32()? + reader.u32()?; // outputs, public inputs
    reader.u32()?; // private inputs
    reader.u64()?; // labels
    let n_constraints = reader.u32()?;
    let mut reader = Reader { bytes, pos: constraints_at.ok_or("r1cs file has no constraints")? };
    let mut constraints = Vec::with_capacity(n_constraints as usize);
    for _ in 0..n_constraints {
        let mut read_lc = || -> Result<LinearCombination, String> {
            let n_terms = reader.u32()?;
            (0..n_terms)
                .map(|_| {
                    let wire = reader.u32()?;
                    if wire >= n_wires {
                        return Err(format!("a constraint names wire {wire} of {n_wires}"));
                    }
                    Ok((wire, Fr::from_le_bytes_mod_order(reader.take(n8)?)))
                })
                .collect()
        };
        constraints.push([read_lc()?, read_lc()?, read_lc()?]);
    }
    Ok(R1cs { n_wires, n_public, constraints })
}

//! devkeys: Duet's development ceremony without snarkjs's slow arithmetic.
//!
//! The development ceremony's secrets are public by design (fixed beacons), so its outputs can
//! be computed straight from them: `devkeys ptau` writes the prepared powers of tau and
//! `devkeys zkey` a circuit's final `.zkey`, byte for byte what `snarkjs powersoftau new` →
//! `beacon` → `prepare phase2` and `snarkjs groth16 setup` → `zkey beacon` write.

mod blake2b;
mod chacha;
mod encoding;
mod math;
mod ptau;
mod r1cs;
mod secrets;
mod vkey;
mod zkey;

use secrets::Beacon;
use std::collections::HashMap;
use std::process::ExitCode;

const USAGE: &str = "usage:
  devkeys ptau OUT --power P --beacon HEX --iterations-exp E --name NAME
  devkeys zkey R1CS OUT --power P --ptau-beacon HEX --ptau-iterations-exp E
               --beacon HEX --iterations-exp E --name NAME
  devkeys vkey ZKEY OUT";

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("devkeys: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<String>) -> Result<(), String> {
    let (positional, options) = parse_args(&args)?;
    match positional.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["ptau", out] => {
            let beacon = get_beacon(&options, "")?;
            let bytes = ptau::build_ptau(get_u32(&options, "power")?, &beacon);
            write(out, &bytes)
        }
        ["zkey", r1cs_path, out] => {
            let r1cs_bytes = std::fs::read(r1cs_path).map_err(|e| format!("{r1cs_path}: {e}"))?;
            let r1cs = r1cs::parse_r1cs(&r1cs_bytes).map_err(|e| format!("{r1cs_path}: {e}"))?;
            let params = zkey::ZkeyParams {
                ptau_power: get_u32(&options, "power")?,
                ptau_beacon: &get_beacon(&options, "ptau-")?,
                zkey_beacon: &get_beacon(&options, "")?,
            };
            write(out, &zkey::build_zkey(&r1cs, &params)?)
        }
        ["vkey", zkey_path, out] => {
            let zkey_bytes = std::fs::read(zkey_path).map_err(|e| format!("{zkey_path}: {e}"))?;
            let json = vkey::export_verification_key(&zkey_bytes)
                .map_err(|e| format!("{zkey_path}: {e}"))?;
            write(out, json.as_bytes())
        }
        _ => Err(USAGE.into()),
    }
}

fn parse_args(args: &[String]) -> Result<(Vec<String>, HashMap<String, String>), String> {
    let mut positional = Vec::new();
    let mut options = HashMap::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.strip_prefix("--") {
            Some(key) => {
                let value = rest.next().ok_or(format!("--{key} needs a value\n{USAGE}"))?;
                options.insert(key.to_string(), value.clone());
            }
            None => positional.push(arg.clone()),
        }
    }
    Ok((positional, options))
}

fn get<'a>(options: &'a HashMap<String, String>, key: &str) -> Result<&'a String, String> {
    options.get(key).ok_or(format!("missing --{key}\n{USAGE}"))
}

fn get_u32(options: &HashMap<String, String>, key: &str) -> Result<u32, String> {
    get(options, key)?.parse().map_err(|_| format!("--{key}: not a number"))
}

fn get_beacon(options: &HashMap<String, String>, prefix: &str) -> Result<Beacon, String> {
    let hex = get(options, &format!("{prefix}beacon"))?;
    let hash = decode_hex(hex).ok_or(format!("--{prefix}beacon: not a hex string"))?;
    if hash.is_empty() || hash.len() > 255 {
        return Err(format!("--{prefix}beacon: 1 to 255 bytes"));
    }
    let iterations_exp = get_u32(options, &format!("{prefix}iterations-exp"))?;
    if !(10..=63).contains(&iterations_exp) {
        return Err(format!("--{prefix}iterations-exp: 10 to 63"));
    }
    let name = options.get(&format!("{prefix}name")).cloned().unwrap_or_default();
    Ok(Beacon { hash, iterations_exp, name })
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() & 1 == 1 {
        return None;
    }
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect()
}

/// Written next to the target and renamed, so a killed run leaves no half-written file.
fn write(path: &str, bytes: &[u8]) -> Result<(), String> {
    let partial = format!("{path}.partial");
    std::fs::write(&partial, bytes).map_err(|e| format!("{partial}: {e}"))?;
    std::fs::rename(&partial, path).map_err(|e| format!("{path}: {e}"))
}

//! BLAKE2b-512 (RFC 7693) that buffers its input exactly as @noble/hashes 1.8 does.
//!
//! snarkjs stores a hasher's internal state in the powers-of-tau contribution (its
//! "partialHash", 216 bytes), including the stale bytes left in the block buffer, so to write
//! the same file the buffering must follow noble's: the last block of every `update` is kept
//! in the buffer (BLAKE2 may not compress it before knowing whether it is the last), and
//! whole blocks in the middle of an input are compressed straight from the input.

const BLOCK: usize = 128;
const IV: [u64; 8] = [
    0x6a09e667f3bcc908,
    0xbb67ae8584caa73b,
    0x3c6ef372fe94f82b,
    0xa54ff53a5f1d36f1,
    0x510e527fade682d1,
    0x9b05688c2b3e6c1f,
    0x1f83d9abfb41bd6b,
    0x5be0cd19137e2179,
];
const SIGMA: [[usize; 16]; 12] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
    [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
    [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
    [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
    [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
    [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
    [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
    [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
    [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
];

pub const PARTIAL_HASH_LEN: usize = 216;

#[derive(Clone)]
pub struct Blake2b {
    h: [u64; 8],
    buffer: [u8; BLOCK],
    pos: usize,  // bytes of `buffer` that belong to the current, uncompressed block
    length: u64, // bytes taken in so far, the buffered ones included
}

impl Default for Blake2b {
    fn default() -> Self {
        Self::new()
    }
}

impl Blake2b {
    pub fn new() -> Self {
        let mut h = IV;
        h[0] ^= 0x0101_0000 ^ 64; // depth 1, fanout 1, no key, 64-byte digest
        Blake2b { h, buffer: [0; BLOCK], pos: 0, length: 0 }
    }

    pub fn update(&mut self, data: &[u8]) -> &mut Self {
        let mut pos = 0;
        while pos < data.len() {
            if self.pos == BLOCK {
                let block = self.buffer;
                self.compress(&block, false);
                self.pos = 0;
            }
            let take = (BLOCK - self.pos).min(data.len() - pos);
            if take == BLOCK && pos + take < data.len() {
                while pos + BLOCK < data.len() {
                    self.length += BLOCK as u64;
                    self.compress(&data[pos..pos + BLOCK], false);
                    pos += BLOCK;
                }
                continue;
            }
            self.buffer[self.pos..self.pos + take].copy_from_slice(&data[pos..pos + take]);
            self.pos += take;
            self.length += take as u64;
            pos += take;
        }
        self
    }

    pub fn digest(mut self) -> [u8; 64] {
        let mut block = self.buffer;
        block[self.pos..].fill(0);
        self.compress(&block, true);
        let mut out = [0u8; 64];
        for (chunk, word) in out.chunks_exact_mut(8).zip(self.h) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        out
    }

    /// noble's internal state as snarkjs's `toPartialHash` lays it out: the block buffer, the
    /// chaining value, then (as u32 words) the bytes compressed so far and the buffered count.
    pub fn partial_hash(&self) -> [u8; PARTIAL_HASH_LEN] {
        let mut out = [0u8; PARTIAL_HASH_LEN];
        out[..BLOCK].copy_from_slice(&self.buffer);
        for (i, word) in self.h.iter().enumerate() {
            out[BLOCK + 8 * i..BLOCK + 8 * i + 8].copy_from_slice(&word.to_le_bytes());
        }
        let compressed = (self.length - self.pos as u64) as u32;
        out[192..196].copy_from_slice(&compressed.to_le_bytes());
        out[200..204].copy_from_slice(&(self.pos as u32).to_le_bytes());
        out
    }

    fn compress(&mut self, block: &[u8], last: bool) {
        let mut m = [0u64; 16];
        for (word, bytes) in m.iter_mut().zip(block.chunks_exact(8)) {
            *word = u64::from_le_bytes(bytes.try_into().unwrap());
        }
        let mut v = [0u64; 16];
        v[..8].copy_from_slice(&self.h);
        v[8..].copy_from_slice(&IV);
        v[12] ^= self.length; // the counter's high word stays 0: files here are far below 2^64 bytes
        if last {
            v[14] = !v[14];
        }
        for s in SIGMA.iter() {
            mix(&mut v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
            mix(&mut v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
            mix(&mut v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
            mix(&mut v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
            mix(&mut v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
            mix(&mut v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
            mix(&mut v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
            mix(&mut v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
        }
        for i in 0..8 {
            self.h[i] ^= v[i] ^ v[i + 8];
        }
    }
}

fn mix(v: &mut [u64; 16], a: usize, b: usize, c: usize, d: usize, x: u64, y: u64) {
    v[a] = v[a].wrapping_add(v[b]).wrapping_add(x);
    v[d] = (v[d] ^ v[a]).rotate_right(32);
    v[c] = v[c].wrapping_add(v[d]);
    v[b] = (v[b] ^ v[c]).rotate_right(24);
    v[a] = v[a].wrapping_add(v[b]).wrapping_add(y);
    v[d] = (v[d] ^ v[a]).rotate_right(16);
    v[c] = v[c].wrapping_add(v[d]);
    v[b] = (v[b] ^ v[c]).rotate_right(63);
}

pub fn blake2b(data: &[u8]) -> [u8; 64] {
    let mut hasher = Blake2b::new();
    hasher.update(data);
    hasher.digest()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn empty_and_abc_match_rfc_7693() {
        assert!(hex(&blake2b(b"")).starts_with("786a02f742015903c6c6fd852552d272"));
        assert!(hex(&blake2b(b"abc")).starts_with("ba80a53f981c4d0d6a2797b69f12f6e9"));
    }

    #[test]
    fn split_updates_give_the_same_digest() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        let mut split = Blake2b::new();
        split.update(&data[..64]).update(&data[64..700]).update(&data[700..]);
        assert_eq!(split.digest(), blake2b(&data));
    }
}

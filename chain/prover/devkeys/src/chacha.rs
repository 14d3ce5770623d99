//! The ChaCha20 keystream generator that ffjavascript uses as snarkjs's random number source:
//! a 256-bit key (the seed), a 128-bit block counter starting at 0, no nonce, 32-bit words out.

const CONSTANTS: [u32; 4] = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574];

pub struct ChaCha {
    state: [u32; 16],
    block: [u32; 16],
    next: usize,
}

impl ChaCha {
    pub fn new(seed: [u32; 8]) -> Self {
        let mut state = [0u32; 16];
        state[..4].copy_from_slice(&CONSTANTS);
        state[4..12].copy_from_slice(&seed);
        ChaCha { state, block: [0; 16], next: 16 }
    }

    /// A seed from the first 32 bytes of a hash, read as big-endian words (as snarkjs does).
    pub fn from_hash(hash: &[u8]) -> Self {
        let mut seed = [0u32; 8];
        for (word, bytes) in seed.iter_mut().zip(hash[..32].chunks_exact(4)) {
            *word = u32::from_be_bytes(bytes.try_into().unwrap());
        }
        Self::new(seed)
    }

    pub fn next_u32(&mut self) -> u32 {
        if self.next == 16 {
            self.refill();
        }
        self.next += 1;
        self.block[self.next - 1]
    }

    /// Two words, the first one high.
    pub fn next_u64(&mut self) -> u64 {
        let high = self.next_u32() as u64;
        (high << 32) | self.next_u32() as u64
    }

    pub fn next_bool(&mut self) -> bool {
        self.next_u32() & 1 == 1
    }

    fn refill(&mut self) {
        let mut x = self.state;
        for _ in 0..10 {
            quarter_round(&mut x, 0, 4, 8, 12);
            quarter_round(&mut x, 1, 5, 9, 13);
            quarter_round(&mut x, 2, 6, 10, 14);
            quarter_round(&mut x, 3, 7, 11, 15);
            quarter_round(&mut x, 0, 5, 10, 15);
            quarter_round(&mut x, 1, 6, 11, 12);
            quarter_round(&mut x, 2, 7, 8, 13);
            quarter_round(&mut x, 3, 4, 9, 14);
        }
        for (out, (mixed, initial)) in self.block.iter_mut().zip(x.iter().zip(self.state)) {
            *out = mixed.wrapping_add(initial);
        }
        self.next = 0;
        for word in &mut self.state[12..16] {
            *word = word.wrapping_add(1);
            if *word != 0 {
                break;
            }
        }
    }
}

fn quarter_round(x: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
    x[a] = x[a].wrapping_add(x[b]);
    x[d] = (x[d] ^ x[a]).rotate_left(16);
    x[c] = x[c].wrapping_add(x[d]);
    x[b] = (x[b] ^ x[c]).rotate_left(12);
    x[a] = x[a].wrapping_add(x[b]);
    x[d] = (x[d] ^ x[a]).rotate_left(8);
    x[c] = x[c].wrapping_add(x[d]);
    x[b] = (x[b] ^ x[c]).rotate_left(7);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_key_matches_the_chacha20_test_vector() {
        // RFC 7539 section 2.3.2's block function with a zero key, nonce and counter starts
        // with these words (the well-known first keystream block 76b8e0ad a0f13d90 ...).
        let mut rng = ChaCha::new([0; 8]);
        assert_eq!(rng.next_u32(), 0xade0b876);
        assert_eq!(rng.next_u32(), 0x903df1a0);
    }
}

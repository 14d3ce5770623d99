pragma circom 2.1.0;

// The layout of the ZK chain's state (docs/zk-state.md, chain/zk/state.py): change both together.

function ACCOUNT_LEVELS() { return 6; }     // 4,096 accounts
function NFT_LEVELS() { return 7; }         // 16,384 tokens: tokenKey = collection << 12 | serial
function COLLECTION_LEVELS() { return 1; }  // 4 collections
function PROVER_LEVELS() { return 3; }      // 64 provers of the market
function SERIAL_BITS() { return 12; }

function ADDRESS_BITS() { return 160; }
function AMOUNT_BITS() { return 96; }       // balances and prices, in wei
function NONCE_BITS() { return 32; }
function ROUND_BITS() { return 32; }        // rounds and epochs
// Mint caps are read as 32-bit like the rounds they bound: a cap of 2^32 or more would make
// every mint fail its cap check, never pass one it should not.
function CAP_BITS() { return 32; }
// A mint may take its collection's round (epoch - collectionEpoch + 1) * MAX_ROUNDS_PER_EPOCH
// rounds on (ops.MAX_ROUNDS_PER_EPOCH): a round comes from the minter or the unproven fast
// chain, the epoch from the chain's clock, so a lying fast chain burns at most 1024 rounds an
// epoch (10 minutes) and the 2^32 rounds last ~80 years, while a game may play a round every
// ~0.6 s. Without it, one message could take the round to 2^32 - 1 and refuse every later mint.
function MAX_ROUNDS_PER_EPOCH() { return 1024; }
// The allowance is at most 2^32 * 2^10 = 2^42 (epoch - collectionEpoch < 2^32), so 43 bits
// hold every allowance - step >= 0, and a step beyond it (step < 2^32) wraps to p - x, above.
function ROUND_ALLOWANCE_BITS() { return ROUND_BITS() + 11; }
function FEE_GWEI_BITS() { return 48; }
function SEQ_BITS() { return 64; }          // fast-chain message numbers
function ACTIVE_UNTIL_BITS() { return 32; } // a prover's heartbeat: active through this height
// A prover's market balance is signed; its leaf holds balance + 2^127, in [0, 2^128).
function PROVER_BALANCE_BITS() { return 128; }
function GWEI() { return 1000000000; }

function ACCOUNT_INDEX_BITS() { return 2 * ACCOUNT_LEVELS(); }
function TOKEN_KEY_BITS() { return 2 * NFT_LEVELS(); }
function COLLECTION_BITS() { return 2 * COLLECTION_LEVELS(); }
function PROVER_INDEX_BITS() { return 2 * PROVER_LEVELS(); }
function BALANCE_OFFSET() { return 2 ** (PROVER_BALANCE_BITS() - 1); }

// H(0, 0, 0): the leaf of a token slot never minted (chain/zk/state.py, EMPTY_NFT).
function EMPTY_NFT_LEAF() {
    return 5317387130258456662214331362918410991734007599705406860481038345552731150762;
}

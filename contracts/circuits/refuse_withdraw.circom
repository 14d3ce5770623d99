pragma circom 2.1.0;

include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";
include "circomlib/circuits/poseidon.circom";
include "lib/params.circom";
include "lib/checks.circom";
include "lib/leaves.circom";
include "read/membership.circom";

// The refusal of a forced Withdraw (docs/zk-state.md, "Refusing a forced withdrawal"). Not an
// operation: anyone may queue a signed Withdraw on L1, and a settlement must then include it,
// either executed (withdraw.circom) or refused with this proof that it breaks a rule of
// withdraw.circom at `preRoot`, the state where it is due:
//
//   the Withdraw whose words are w1, w2, w3 (withdraw.circom's own, packed alike) has no
//   proof by withdraw.circom at preRoot; the state does not change (postRoot = preRoot).
//
// Its rules are exactly the complement of withdraw.circom's, for any three field elements as
// words: at least one of the flags below is 1. Not the signature (L1 checks it when it queues
// the operation), and not the node's minimum fee, which withdraw.circom does not see either.
// The reasons, in the order chain/prover/escape.py (REFUSAL_REASONS) names them:
//   headerOutOfRange   w1 >= 2^252: no from | fromIndex | nonce | feeGwei packs into it
//   signerIsZero       from = 0, which only an empty slot holds
//   nonceExhausted     nonce = 2^32 - 1: the nonce after would not fit its 32 bits
//   recipientIsZero    w2 = 0
//   recipientTooWide   w2 >= 2^160
//   amountIsZero       w3 = 0
//   amountTooLarge     w3 >= 2^96
//   notSignersAccount  the leaf at fromIndex holds another address than `from`
//   wrongNonce         the leaf's nonce is not the word's nonce
//   shortBalance       the leaf's balance < amount + feeGwei · 10^9 (what the header debits)
// Public: preRoot, postRoot, w1 = from (160) | fromIndex (12) | nonce (32) | feeGwei (48),
// w2 = to (160), w3 = amount (96).

// The 254 bits of `in`, little-endian, read as a number below p: the canonical ones. Num2Bits
// alone would also take those of in + p, which fit 254 bits for in < 2^254 - p and could show
// a high bit that `in` does not have. circomlib's Num2Bits_strict does the same, but its
// CompConstant leaves signals unconstrained that --inspect warns of.
template CanonicalBits() {
    signal input in;
    signal output out[254];

    out <== Num2Bits(254)(in);
    // From the top bit down, whether out so far equals p - 1; the number is below p if it
    // equals p - 1 throughout, or if the first bit that differs is a 0 where p - 1 has a 1.
    var top = -1;  // p - 1
    signal equal[254];
    var below = 0;
    for (var i = 253; i >= 0; i--) {
        var bit = (top >> i) & 1;
        var same = bit == 1 ? out[i] : 1 - out[i];
        if (i == 253) {
            equal[i] <== same;
        } else {
            equal[i] <== equal[i + 1] * same;
        }
        if (bit == 1) {
            below += (i == 253 ? 1 : equal[i + 1]) - equal[i];
        }
    }
    below + equal[0] === 1;
}

// Whether the sum of `n` bits is non-zero: any of them set.
template AnySet(n) {
    signal input in[n];
    signal output out;

    var sum = 0;
    for (var i = 0; i < n; i++) {
        sum += in[i];
    }
    signal none <== IsZero()(sum);  // at most n ones: the sum cannot wrap
    out <== 1 - none;
}

template RefuseWithdraw() {
    signal input preRoot;
    signal input postRoot;
    signal input w1;
    signal input w2;
    signal input w3;
    // The account leaf at fromIndex, as the state holds it, and its path.
    signal input address;
    signal input balance;
    signal input nonce;
    signal input keyHash;
    signal input accountPath[ACCOUNT_LEVELS()][4];
    // The rest of the state root:
    // H(accountsRoot, nftsRoot, collectionsRoot, proversRoot, globalsHash).
    signal input nftsRoot;
    signal input collectionsRoot;
    signal input proversRoot;
    signal input globalsHash;

    // A refused operation changes nothing.
    postRoot === preRoot;

    // Every bit of each word, canonical (below p): a prover cannot show an alias's high bits.
    signal headerBits[254] <== CanonicalBits()(w1);
    signal toBits[254] <== CanonicalBits()(w2);
    signal amountBits[254] <== CanonicalBits()(w3);

    var addressBits = ADDRESS_BITS();
    var indexBits = ACCOUNT_INDEX_BITS();
    var nonceAt = addressBits + indexBits;
    var feeAt = nonceAt + NONCE_BITS();
    var headerEnd = feeAt + FEE_GWEI_BITS();  // 252: w1 holds no more
    var from = 0;
    var opNonce = 0;
    var feeGwei = 0;
    var amount = 0;  // w3 itself, unless it is too large
    for (var i = 0; i < addressBits; i++) {
        from += headerBits[i] * (1 << i);
    }
    for (var i = 0; i < NONCE_BITS(); i++) {
        opNonce += headerBits[nonceAt + i] * (1 << i);
    }
    for (var i = 0; i < FEE_GWEI_BITS(); i++) {
        feeGwei += headerBits[feeAt + i] * (1 << i);
    }
    for (var i = 0; i < AMOUNT_BITS(); i++) {
        amount += amountBits[i] * (1 << i);
    }
    signal headerHigh[254 - headerEnd];
    signal toHigh[254 - addressBits];
    signal amountHigh[254 - AMOUNT_BITS()];
    for (var i = headerEnd; i < 254; i++) {
        headerHigh[i - headerEnd] <== headerBits[i];
    }
    for (var i = addressBits; i < 254; i++) {
        toHigh[i - addressBits] <== toBits[i];
    }
    for (var i = AMOUNT_BITS(); i < 254; i++) {
        amountHigh[i - AMOUNT_BITS()] <== amountBits[i];
    }
    _ <== toBits;  // only the high bits of w2 and w3 matter beyond the words themselves
    _ <== amountBits;

    // The leaf at fromIndex is in the state whose root is preRoot.
    signal fromIndexBits[indexBits];
    for (var i = 0; i < indexBits; i++) {
        fromIndexBits[i] <== headerBits[addressBits + i];
    }
    signal leaf <== AccountLeaf()(address, balance, nonce, keyHash);
    signal accountsRoot <== QuadMembership(ACCOUNT_LEVELS())(leaf, fromIndexBits, accountPath);
    signal state <== Poseidon(5)(
        [accountsRoot, nftsRoot, collectionsRoot, proversRoot, globalsHash]
    );
    preRoot === state;

    // withdraw.circom's rules, each as a flag that is 1 where the rule is broken.
    signal headerOutOfRange <== AnySet(254 - headerEnd)(headerHigh);
    signal signerIsZero <== IsZero()(from);
    signal nonceExhausted <== IsEqual()([opNonce, 2 ** NONCE_BITS() - 1]);
    signal recipientIsZero <== IsZero()(w2);
    signal recipientTooWide <== AnySet(254 - addressBits)(toHigh);
    signal amountIsZero <== IsZero()(w3);
    signal amountTooLarge <== AnySet(254 - AMOUNT_BITS())(amountHigh);
    signal signersAccount <== IsEqual()([address, from]);
    signal notSignersAccount <== 1 - signersAccount;
    signal rightNonce <== IsEqual()([nonce, opNonce]);
    signal wrongNonce <== 1 - rightNonce;
    // Every leaf's balance is below 2^96, and amount + fee below 2^96 + 2^78, so the
    // comparison over 97 bits is exact.
    RangeCheck(AMOUNT_BITS())(balance);
    // balance - debit + 2^97 has its bit 97 clear exactly when balance < debit.
    var debitBits = AMOUNT_BITS() + 1;
    signal gap[debitBits + 1] <== Num2Bits(debitBits + 1)(
        balance + (1 << debitBits) - amount - feeGwei * GWEI()
    );
    signal shortBalance <== 1 - gap[debitBits];
    _ <== gap;

    // At least one is broken (ten flags of 0 or 1: the sum cannot wrap).
    NonZero()(
        headerOutOfRange + signerIsZero + nonceExhausted + recipientIsZero + recipientTooWide
        + amountIsZero + amountTooLarge + notSignersAccount + wrongNonce + shortBalance
    );
}

component main {public [preRoot, postRoot, w1, w2, w3]} = RefuseWithdraw();

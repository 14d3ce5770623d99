pragma circom 2.1.0;

include "circomlib/circuits/poseidon.circom";

// Read-only Merkle membership in the arity-4 trees, for the statements (exit, refuse_withdraw)
// that prove what a state holds without writing it. Not in lib/: every file there keys every
// circuit's cached ceremony, while this file keys only the circuits that include it
// (chain/prover/ceremony.py, compute_hash_inputs).

// One level of an arity-4 Merkle path, read only: the child at position b0 + 2·b1 equals
// `below` (b0, b1 bits), and `node` is the hash of the four. lib/merkle.circom's QuadLevel
// without the write, which would cost a second Poseidon(4) a level.
template QuadReadLevel() {
    signal input b0;
    signal input b1;
    signal input below;
    signal input children[4];
    signal output node;

    signal both <== b0 * b1;
    signal pick1 <== b0 * (children[1] - children[0]);
    signal pick2 <== b1 * (children[2] - children[0]);
    signal pick3 <== both * (children[3] - children[2] - children[1] + children[0]);
    children[0] + pick1 + pick2 + pick3 === below;
    node <== Poseidon(4)(children);
}

// The root of the tree in which `leaf` is at the index with bits `indexBits` (little-endian,
// two per level from the leaves up; callers take them from Num2Bits), along `path`.
template QuadMembership(levels) {
    signal input leaf;
    signal input indexBits[2 * levels];
    signal input path[levels][4];
    signal output root;

    component level[levels];
    for (var l = 0; l < levels; l++) {
        level[l] = QuadReadLevel();
        level[l].b0 <== indexBits[2 * l];
        level[l].b1 <== indexBits[2 * l + 1];
        level[l].children <== path[l];
        level[l].below <== l == 0 ? leaf : level[l - 1].node;
    }
    root <== level[levels - 1].node;
}

pragma circom 2.1.0;

include "circomlib/circuits/poseidon.circom";

// One level of an arity-4 Merkle path, read and written at once. `children` are the four
// children of the node on the path; the one at position b0 + 2·b1 must equal `oldBelow`, and
// the new node has `newBelow` in its place. b0 and b1 must be bits (callers take them from
// Num2Bits).
template QuadLevel() {
    signal input b0;
    signal input b1;
    signal input oldBelow;
    signal input newBelow;
    signal input children[4];
    signal output oldNode;
    signal output newNode;

    // The four selectors are linear in b0, b1 and b0·b1, so selecting a child, and moving
    // one by delta, costs three products each rather than four.
    signal both <== b0 * b1;
    signal pick1 <== b0 * (children[1] - children[0]);
    signal pick2 <== b1 * (children[2] - children[0]);
    signal pick3 <== both * (children[3] - children[2] - children[1] + children[0]);
    children[0] + pick1 + pick2 + pick3 === oldBelow;

    signal delta <== newBelow - oldBelow;
    signal move1 <== b0 * delta;
    signal move2 <== b1 * delta;
    signal move3 <== both * delta;
    oldNode <== Poseidon(4)(children);
    newNode <== Poseidon(4)([
        children[0] + delta - move1 - move2 + move3,
        children[1] + move1 - move3,
        children[2] + move2 - move3,
        children[3] + move3
    ]);
}

// Replaces `oldLeaf` by `newLeaf` at the leaf whose index has the bits `indexBits` (little-
// endian, two per level from the leaves up), and gives the roots before and after.
// `path[l]` holds the four children of the node on the path at level l (chain/zk/tree.py).
template QuadUpdate(levels) {
    signal input oldLeaf;
    signal input newLeaf;
    signal input indexBits[2 * levels];
    signal input path[levels][4];
    signal output oldRoot;
    signal output newRoot;

    component level[levels];
    for (var l = 0; l < levels; l++) {
        level[l] = QuadLevel();
        level[l].b0 <== indexBits[2 * l];
        level[l].b1 <== indexBits[2 * l + 1];
        level[l].children <== path[l];
        if (l == 0) {
            level[l].oldBelow <== oldLeaf;
            level[l].newBelow <== newLeaf;
        } else {
            level[l].oldBelow <== level[l - 1].oldNode;
            level[l].newBelow <== level[l - 1].newNode;
        }
    }
    oldRoot <== level[levels - 1].oldNode;
    newRoot <== level[levels - 1].newNode;
}

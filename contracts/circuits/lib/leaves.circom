pragma circom 2.1.0;

include "circomlib/circuits/poseidon.circom";

// Leaf hashes, as chain/zk/state.py computes them.

template AccountLeaf() {
    signal input address;
    signal input balance;
    signal input nonce;
    signal input keyHash;
    signal output out <== Poseidon(4)([address, balance, nonce, keyHash]);
}

template NftLeaf() {
    signal input owner;
    signal input metadata;
    signal input price;  // 0: not listed
    signal output out <== Poseidon(3)([owner, metadata, price]);
}

template CollectionLeaf() {
    signal input minter;
    signal input roundCap;
    signal input epochCap;
    signal input round;
    signal input roundCount;
    signal input epoch;
    signal input epochCount;
    signal input supply;
    signal output out <== Poseidon(8)(
        [minter, roundCap, epochCap, round, roundCount, epoch, epochCount, supply]
    );
}

// A prover of the market; an empty slot is H(0, 0, 0), and a prover's balanceOffset is its
// signed balance + 2^127.
template ProverLeaf() {
    signal input address;
    signal input balanceOffset;
    signal input activeUntil;
    signal output out <== Poseidon(3)([address, balanceOffset, activeUntil]);
}

// H(accountsRoot, nftsRoot, collectionsRoot, proversRoot, H(feePool, escrow, inbox)).
template StateRoot() {
    signal input accounts;
    signal input nfts;
    signal input collections;
    signal input provers;
    signal input feePool;
    signal input escrow;
    signal input inbox;
    signal output out <== Poseidon(5)(
        [accounts, nfts, collections, provers, Poseidon(3)([feePool, escrow, inbox])]
    );
}

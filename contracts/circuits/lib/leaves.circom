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

// H(accountsRoot, nftsRoot, collectionsRoot, H(feePool, escrow, inbox)).
template StateRoot() {
    signal input accounts;
    signal input nfts;
    signal input collections;
    signal input feePool;
    signal input escrow;
    signal input inbox;
    signal output out <== Poseidon(4)(
        [accounts, nfts, collections, Poseidon(3)([feePool, escrow, inbox])]
    );
}

pragma circom 2.1.0;

include "lib/header.circom";
include "lib/mint.circom";

// Mint (ops.process_mint): the signer is the collection's minter; then the rules of every
// mint (lib/mint.circom, NewToken): rounds and epochs never go backwards, the round advances
// at most MAX_ROUNDS_PER_EPOCH an epoch, the counts after the mint are within the caps, the
// new token is serial = supply, owned by `to`.
// Public: preRoot, postRoot, w1 (header), w2 = to (160) | tokenKey (14) | round (32) |
// epoch (32), w3 = metadata. tokenKey = collection << 12 | serial.
template Mint() {
    signal input preRoot;
    signal input postRoot;
    signal input w1;
    signal input w2;
    signal input w3;
    signal input proversRoot;
    signal input feePool;
    signal input escrow;
    signal input inbox;
    signal input signerBalance;
    signal input signerKeyHash;
    signal input signerPath[ACCOUNT_LEVELS()][4];
    // The collection before the mint; its minter is the signer and its supply the serial.
    signal input roundCap;
    signal input epochCap;
    signal input collectionRound;
    signal input roundCount;
    signal input collectionEpoch;
    signal input epochCount;
    signal input collectionPath[COLLECTION_LEVELS()][4];
    signal input nftPath[NFT_LEVELS()][4];

    component header = Header();
    header.w1 <== w1;
    header.spend <== 0;
    header.balance <== signerBalance;
    header.keyHash <== signerKeyHash;
    header.path <== signerPath;

    component mint = NewToken();
    mint.minter <== header.from;  // the signer (and, from != 0, the collection exists)
    mint.word <== w2;
    mint.metadata <== w3;
    mint.roundCap <== roundCap;
    mint.epochCap <== epochCap;
    mint.collectionRound <== collectionRound;
    mint.roundCount <== roundCount;
    mint.collectionEpoch <== collectionEpoch;
    mint.epochCount <== epochCount;
    mint.collectionPath <== collectionPath;
    mint.nftPath <== nftPath;

    signal pre <== StateRoot()(
        header.oldRoot, mint.nftsOldRoot, mint.collectionsOldRoot, proversRoot, feePool, escrow,
        inbox
    );
    signal post <== StateRoot()(
        header.newRoot, mint.nftsNewRoot, mint.collectionsNewRoot, proversRoot,
        feePool + header.feeWei, escrow, inbox
    );
    preRoot === pre;
    postRoot === post;
}

component main {public [preRoot, postRoot, w1, w2, w3]} = Mint();

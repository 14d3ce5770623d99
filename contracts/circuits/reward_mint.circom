pragma circom 2.1.0;

include "lib/inbox.circom";
include "lib/mint.circom";

// RewardMint (ops.process_reward_mint), fast-chain message `seq`: the collection's minter is
// the sender flagged as a fast-chain contract, sender + 2^160 (state.FAST_MINTER, set by
// set_minter.circom with fastChain 1). The fast chain is not proven and can name any sender,
// so an account's collection (minter < 2^160) must never match. Then the rules of every mint
// (lib/mint.circom, NewToken), whose caps are what bounds a fast chain that lies, and whose
// round allowance keeps it from taking the round out of later rewards' reach; the message
// is not a replay (lib/inbox.circom). Nobody signs it and nobody pays a fee: no header, no
// account written.
// Public: preRoot, postRoot, w1 = seq (64) | sender (160), w2 = to (160) | tokenKey (14) |
// round (32) | epoch (32), w3 = metadata. tokenKey = collection << 12 | serial.
template RewardMint() {
    signal input preRoot;
    signal input postRoot;
    signal input w1;
    signal input w2;
    signal input w3;
    // The pre-state's parts that the operation leaves alone.
    signal input accountsRoot;
    signal input proversRoot;
    signal input feePool;
    signal input escrow;
    signal input inbox;
    // The collection before the mint; its minter is the flagged sender, its supply the serial.
    signal input roundCap;
    signal input epochCap;
    signal input collectionRound;
    signal input roundCount;
    signal input collectionEpoch;
    signal input epochCount;
    signal input collectionPath[COLLECTION_LEVELS()][4];
    signal input nftPath[NFT_LEVELS()][4];

    component message = UnpackWord(2, [SEQ_BITS(), ADDRESS_BITS()]);
    message.word <== w1;
    signal sender <== message.fields[1];
    // "no such collection": no SetMinter flags address 0, so sender 0 names no contract.
    NonZero()(sender);
    _ <== message.bits;
    signal newInbox <== Inbox()(message.fields[0], inbox);

    component mint = NewToken();
    mint.minter <== sender + (1 << ADDRESS_BITS());  // FAST_MINTER | sender
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
        accountsRoot, mint.nftsOldRoot, mint.collectionsOldRoot, proversRoot, feePool, escrow, inbox
    );
    signal post <== StateRoot()(
        accountsRoot, mint.nftsNewRoot, mint.collectionsNewRoot, proversRoot, feePool, escrow,
        newInbox
    );
    preRoot === pre;
    postRoot === post;
}

component main {public [preRoot, postRoot, w1, w2, w3]} = RewardMint();

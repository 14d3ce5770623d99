pragma circom 2.1.0;

include "lib/header.circom";
include "stake/stake.circom";

// Bond (ops.process_bond): the signer pays `amount` plus the fee, and its stake account
// (at stakeIndex, opening there on its first bond) gets `amount` more bonded stake. A transfer
// whose recipient is the signer's own stake address, which the circuit derives from `from`:
// no word can name another validator's stake.
// Public: preRoot, postRoot, w1 (header), w2 = stakeIndex (12), w3 = amount (96).
template Bond() {
    signal input preRoot;
    signal input postRoot;
    signal input w1;
    signal input w2;
    signal input w3;
    // The pre-state's parts that the operation leaves alone.
    signal input nftsRoot;
    signal input collectionsRoot;
    signal input proversRoot;
    signal input feePool;
    signal input escrow;
    signal input inbox;
    signal input signerBalance;
    signal input signerKeyHash;
    signal input signerPath[ACCOUNT_LEVELS()][4];
    // The stake account's slot before the bond (all zero if it opens now).
    signal input recipientAddress;
    signal input recipientBalance;
    signal input recipientNonce;
    signal input recipientKeyHash;
    signal input recipientPath[ACCOUNT_LEVELS()][4];

    component stakeIndex = UnpackWord(1, [ACCOUNT_INDEX_BITS()]);
    stakeIndex.word <== w2;
    signal amount <== w3;
    RangeCheck(AMOUNT_BITS())(amount);
    NonZero()(amount);  // "amount must be above 0"

    component header = Header();
    header.w1 <== w1;
    header.spend <== amount;
    header.balance <== signerBalance;
    header.keyHash <== signerKeyHash;
    header.path <== signerPath;

    component credit = Credit();
    credit.address <== header.from + STAKE_FLAG();
    credit.amount <== amount;
    credit.indexBits <== stakeIndex.bits;
    credit.root <== header.newRoot;
    credit.oldAddress <== recipientAddress;
    credit.balance <== recipientBalance;
    credit.nonce <== recipientNonce;
    credit.keyHash <== recipientKeyHash;
    credit.path <== recipientPath;
    _ <== stakeIndex.fields;

    signal pre <== StateRoot()(
        header.oldRoot, nftsRoot, collectionsRoot, proversRoot, feePool, escrow, inbox
    );
    signal post <== StateRoot()(
        credit.newRoot, nftsRoot, collectionsRoot, proversRoot, feePool + header.feeWei, escrow,
        inbox
    );
    preRoot === pre;
    postRoot === post;
}

component main {public [preRoot, postRoot, w1, w2, w3]} = Bond();

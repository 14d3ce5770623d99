pragma circom 2.1.0;

include "lib/header.circom";
include "stake/stake.circom";

// ClaimStake (ops.process_claim_stake): the signer pays the fee and takes all of its unbonding
// stake, which must be some, once the block's epoch has reached the stake's unlock epoch.
// Three writes, as the state machine makes them: the header's (fee and nonce), the stake
// account's (nothing left unbonding), then the payment to the signer's own slot. That last
// write's old leaf is the header's new leaf, recomputed from the same fields (as in
// register_key.circom), so nothing but the balance changes there.
// Public: preRoot, postRoot, w1 (header), w2 = stakeIndex (12) | epoch (32).
template ClaimStake() {
    signal input preRoot;
    signal input postRoot;
    signal input w1;
    signal input w2;
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
    // The stake account before the claim, in the tree the header's write left.
    signal input stakeBonded;
    signal input stakeUnbonding;
    signal input stakeUnlockEpoch;
    signal input stakePath[ACCOUNT_LEVELS()][4];
    // The signer's path again, in the tree the stake's write left.
    signal input claimPath[ACCOUNT_LEVELS()][4];

    var indexBits = ACCOUNT_INDEX_BITS();
    component target = UnpackWord(2, [indexBits, ROUND_BITS()]);
    target.word <== w2;
    signal epoch <== target.fields[1];
    NonZero()(stakeUnbonding);  // "no stake is unbonding"
    // "the stake unbonds until epoch ...": a claim too early wraps to p - x, above 2^32.
    RangeCheck(ROUND_BITS())(epoch - stakeUnlockEpoch);

    component header = Header();
    header.w1 <== w1;
    header.spend <== 0;
    header.balance <== signerBalance;
    header.keyHash <== signerKeyHash;
    header.path <== signerPath;

    component stake = StakeUpdate();
    stake.validator <== header.from;
    for (var i = 0; i < indexBits; i++) {
        stake.indexBits[i] <== target.bits[i];
    }
    stake.root <== header.newRoot;
    stake.bonded <== stakeBonded;
    stake.unbonding <== stakeUnbonding;
    stake.unlockEpoch <== stakeUnlockEpoch;
    stake.newBonded <== stakeBonded;
    stake.newUnbonding <== 0;
    stake.newUnlockEpoch <== stakeUnlockEpoch;
    stake.path <== stakePath;
    _ <== target.bits;  // only the index bits are read; the unpacking constrains them all
    _ <== target.fields;

    // Header() keeps the word's fields to itself: unpack it again for the slot and the nonce.
    component word = UnpackWord(4, [ADDRESS_BITS(), indexBits, NONCE_BITS(), FEE_GWEI_BITS()]);
    word.word <== w1;
    signal from <== word.fields[0];
    signal nonce <== word.fields[2];
    _ <== header.from;  // the same field: one word has one decomposition
    signal balance <== signerBalance - header.feeWei;  // Header() range-checked it
    signal paid <== balance + stakeUnbonding;
    RangeCheck(AMOUNT_BITS())(paid);  // "recipient balance would overflow"

    component claim = QuadUpdate(ACCOUNT_LEVELS());
    claim.oldLeaf <== AccountLeaf()(from, balance, nonce + 1, signerKeyHash);
    claim.newLeaf <== AccountLeaf()(from, paid, nonce + 1, signerKeyHash);
    for (var i = 0; i < indexBits; i++) {
        claim.indexBits[i] <== word.bits[ADDRESS_BITS() + i];
    }
    claim.path <== claimPath;
    claim.oldRoot === stake.newRoot;
    _ <== word.bits;
    _ <== word.fields;

    signal pre <== StateRoot()(
        header.oldRoot, nftsRoot, collectionsRoot, proversRoot, feePool, escrow, inbox
    );
    signal post <== StateRoot()(
        claim.newRoot, nftsRoot, collectionsRoot, proversRoot, feePool + header.feeWei, escrow,
        inbox
    );
    preRoot === pre;
    postRoot === post;
}

component main {public [preRoot, postRoot, w1, w2]} = ClaimStake();

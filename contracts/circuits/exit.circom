pragma circom 2.1.0;

include "circomlib/circuits/poseidon.circom";
include "lib/params.circom";
include "lib/checks.circom";
include "lib/leaves.circom";
include "read/membership.circom";

// The escape hatch's exit proof (docs/zk-state.md, "Exit proof"). Not an operation: once the
// rollup is frozen, each account withdraws on L1 what it held in the last settled state, and
// this proves what that was:
//
//   the account leaf at `index`, under the state whose root is `root`, holds `address` and
//   `balance`.
//
// `balance` is in wei, the unit of the withdraw circuit's amount (w3), which is what the
// rollup pays out on L1. An empty slot proves too (address 0, balance 0): the rollup refuses a
// zero payout itself, and keeps which accounts have exited.
// Public: root, account = address (160) | index (12) << 160, balance (96).
template Exit() {
    signal input root;
    signal input account;
    signal input balance;
    // The rest of the leaf H(address, balance, nonce, keyHash), and its path.
    signal input nonce;
    signal input keyHash;
    signal input accountPath[ACCOUNT_LEVELS()][4];
    // The rest of the state root:
    // H(accountsRoot, nftsRoot, collectionsRoot, proversRoot, globalsHash).
    signal input nftsRoot;
    signal input collectionsRoot;
    signal input proversRoot;
    signal input globalsHash;

    component word = UnpackWord(2, [ADDRESS_BITS(), ACCOUNT_INDEX_BITS()]);
    word.word <== account;
    signal address <== word.fields[0];
    _ <== word.fields[1];  // the index is read from its bits
    _ <== word.bits;
    // Every leaf's balance is below 2^96 already; the check keeps the payout within it too.
    RangeCheck(AMOUNT_BITS())(balance);

    signal indexBits[ACCOUNT_INDEX_BITS()];
    for (var i = 0; i < ACCOUNT_INDEX_BITS(); i++) {
        indexBits[i] <== word.bits[ADDRESS_BITS() + i];
    }
    signal leaf <== AccountLeaf()(address, balance, nonce, keyHash);
    signal accountsRoot <== QuadMembership(ACCOUNT_LEVELS())(leaf, indexBits, accountPath);
    signal state <== Poseidon(5)(
        [accountsRoot, nftsRoot, collectionsRoot, proversRoot, globalsHash]
    );
    root === state;
}

component main {public [root, account, balance]} = Exit();

pragma circom 2.1.0;

include "lib/header.circom";
include "lib/nft.circom";

// Buy (ops.process_buy): the token is listed at exactly `price` (so a changed listing cannot
// take more than the buyer signed for); the buyer (the signer) pays price plus the fee, the
// seller (the owner) gets price, the buyer gets the token and the listing is cleared. The
// seller's credit runs against the root the buyer's debit left, so buying one's own listing
// proves too.
// Public: preRoot, postRoot, w1 (header), w2 = seller (160) | sellerIndex (12) | tokenKey (14),
// w3 = price (96).
template Buy() {
    signal input preRoot;
    signal input postRoot;
    signal input w1;
    signal input w2;
    signal input w3;
    // The pre-state's parts that the operation leaves alone.
    signal input collectionsRoot;
    signal input proversRoot;
    signal input feePool;
    signal input escrow;
    signal input inbox;
    signal input signerBalance;
    signal input signerKeyHash;
    signal input signerPath[ACCOUNT_LEVELS()][4];
    // The seller's account before the credit.
    signal input sellerAddress;
    signal input sellerBalance;
    signal input sellerNonce;
    signal input sellerKeyHash;
    signal input sellerPath[ACCOUNT_LEVELS()][4];
    // The token before; its owner is the seller and its price w3.
    signal input metadata;
    signal input nftPath[NFT_LEVELS()][4];

    var indexBits = ACCOUNT_INDEX_BITS();
    component op = UnpackWord(3, [ADDRESS_BITS(), indexBits, TOKEN_KEY_BITS()]);
    op.word <== w2;
    signal seller <== op.fields[0];
    NonZero()(seller);  // "no such token": only a minted token has an owner
    signal price <== w3;
    RangeCheck(AMOUNT_BITS())(price);
    NonZero()(price);  // "token is not listed"

    component header = Header();
    header.w1 <== w1;
    header.spend <== price;
    header.balance <== signerBalance;
    header.keyHash <== signerKeyHash;
    header.path <== signerPath;

    component credit = Credit();
    credit.address <== seller;
    credit.amount <== price;
    for (var i = 0; i < indexBits; i++) {
        credit.indexBits[i] <== op.bits[ADDRESS_BITS() + i];
    }
    credit.root <== header.newRoot;
    credit.oldAddress <== sellerAddress;
    credit.balance <== sellerBalance;
    credit.nonce <== sellerNonce;
    credit.keyHash <== sellerKeyHash;
    credit.path <== sellerPath;

    component token = NftUpdate();
    for (var i = 0; i < TOKEN_KEY_BITS(); i++) {
        token.tokenKeyBits[i] <== op.bits[ADDRESS_BITS() + indexBits + i];
    }
    token.oldOwner <== seller;
    token.newOwner <== header.from;
    token.metadata <== metadata;
    token.oldPrice <== price;  // listed at exactly the price the buyer signed
    token.newPrice <== 0;
    token.path <== nftPath;
    _ <== op.bits;  // only the index and key bits are read; the unpacking constrains them all
    _ <== op.fields;

    signal pre <== StateRoot()(
        header.oldRoot, token.oldRoot, collectionsRoot, proversRoot, feePool, escrow, inbox
    );
    signal post <== StateRoot()(
        credit.newRoot, token.newRoot, collectionsRoot, proversRoot, feePool + header.feeWei,
        escrow, inbox
    );
    preRoot === pre;
    postRoot === post;
}

component main {public [preRoot, postRoot, w1, w2, w3]} = Buy();

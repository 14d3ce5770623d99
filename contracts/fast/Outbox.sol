// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.24;

/// @title Outbox
/// @notice The fast chain's only way to send the ZK chain a message. It lives at a fixed
///         address from genesis (chain/fast/system.py); the ledger reads its events from each
///         fast block's receipts and turns each one into a ZK-chain operation in the next ZK
///         block. The ZK chain applies a message only within its own rules (releases never
///         exceed the escrow, reward mints never exceed the caps), so the outbox records
///         requests and judges none of them beyond what makes a message well-formed.
/// @dev Every message takes the next number of one counter shared by all kinds, so the ZK
///      chain can see that it applied each message once and in order.
contract Outbox {
    /// What each message costs its sender, burned with the release: the ZK chain's minimum
    /// operation fee (ZK_MIN_FEE_WEI in chain/config.py). A message becomes a ZK operation that
    /// a prover proves and L1 settles; without a price, 1-wei releases would cost an attacker
    /// nothing and every prover a proof each.
    uint256 public constant MESSAGE_FEE = 0.001 ether;

    /// The number the next message gets.
    uint64 public nextSeq;

    /// `sender` burned `amount` ZKPoW here (besides the fee) for `to` on the ZK chain, to be
    /// released from escrow.
    event Release(uint64 indexed seq, address indexed sender, address to, uint256 amount);

    /// `sender` asks the ZK chain to mint a token of `collection` for `to`. The ZK chain honours
    /// it only when `sender` is the collection's authorised minter (a fast-chain contract).
    event RewardMint(
        uint64 indexed seq,
        address indexed sender,
        uint32 collection,
        uint32 round,
        address to,
        uint256 metadata
    );

    /// A release of nothing would be a message with no effect but a sequence number.
    error NothingToRelease();
    /// A message pays exactly MESSAGE_FEE (a release: its amount on top).
    error WrongMessageFee(uint256 paid, uint256 fee);
    /// The ZK chain has no owner at address zero: whatever went there would be lost.
    error ZeroRecipient();

    /// @notice Burn msg.value on the fast chain: MESSAGE_FEE for the message, the rest to be
    ///         released to `to` on the ZK chain.
    /// @dev The value stays in this contract forever: the outbox has no way to send value
    ///      out (no transfer, call or selfdestruct anywhere in it), which is what "burned"
    ///      means here. The ZKPoW reappears only on the ZK chain, out of its escrow; the fee
    ///      never does (the escrow keeps it, backing nothing).
    function release(address to) external payable returns (uint64 seq) {
        if (msg.value < MESSAGE_FEE) revert WrongMessageFee(msg.value, MESSAGE_FEE);
        if (msg.value == MESSAGE_FEE) revert NothingToRelease();
        if (to == address(0)) revert ZeroRecipient();
        seq = nextSeq++;
        emit Release(seq, msg.sender, to, msg.value - MESSAGE_FEE);
    }

    /// @notice Ask the ZK chain to mint a reward token of `collection` for round `round`, paying
    ///         MESSAGE_FEE (burned).
    /// @dev Anyone may ask; the ZK chain checks that msg.sender is the collection's minter and
    ///      applies its per-round and per-epoch caps, which bound what a compromised fast chain
    ///      can mint.
    function requestRewardMint(uint32 collection, uint32 round, address to, uint256 metadata)
        external
        payable
        returns (uint64 seq)
    {
        if (msg.value != MESSAGE_FEE) revert WrongMessageFee(msg.value, MESSAGE_FEE);
        if (to == address(0)) revert ZeroRecipient();
        seq = nextSeq++;
        emit RewardMint(seq, msg.sender, collection, round, to, metadata);
    }

    // No receive() or fallback(): a plain transfer reverts, so value never arrives here
    // without a Release message that says where it goes.
}

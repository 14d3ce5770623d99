// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.24;

interface IRewardOutbox {
    function requestRewardMint(uint32 collection, uint32 round, address to, uint256 metadata)
        external
        returns (uint64 seq);
}

/// @title RewardProbe
/// @notice A minimal game for the cross-chain tests: it asks the ZK chain, through the outbox,
///         for one reward token per winner. The ZK chain honours it only once it is the
///         collection's minter, and only within the caps.
contract RewardProbe {
    IRewardOutbox public immutable outbox;

    constructor(IRewardOutbox outbox_) {
        outbox = outbox_;
    }

    function reward(uint32 collection, uint32 round, address[] calldata winners) external {
        for (uint256 i = 0; i < winners.length; i++) {
            outbox.requestRewardMint(collection, round, winners[i], uint256(uint160(winners[i])));
        }
    }
}

// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.24;

interface IRewardOutbox {
    function MESSAGE_FEE() external view returns (uint256);

    function requestRewardMint(uint32 collection, uint32 round, address to, uint256 metadata)
        external
        payable
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

    /// One request per winner, each paying the outbox's fee out of msg.value.
    function reward(uint32 collection, uint32 round, address[] calldata winners) external payable {
        uint256 fee = outbox.MESSAGE_FEE();
        for (uint256 i = 0; i < winners.length; i++) {
            uint256 metadata = uint256(uint160(winners[i]));
            outbox.requestRewardMint{value: fee}(collection, round, winners[i], metadata);
        }
    }
}

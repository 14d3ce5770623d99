// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.24;

import {PassGate} from "contracts/fast/PassGate.sol";

/// @title PassProbe
/// @notice The smallest game behind a PassGate, for the ownership-proof tests: a seat per
///         session key and round.
contract PassProbe is PassGate {
    mapping(address => uint32) public seatRound;
    mapping(address => bool) public seated;

    event Joined(address indexed sessionKey, uint32 round, uint256 nullifier);

    constructor(bytes32 ownershipVkId_, uint256 passCollection_)
        PassGate(ownershipVkId_, passCollection_)
    {}

    function join(
        bytes32 root,
        uint32 round,
        address sessionKey,
        uint256 nullifier,
        bytes calldata proof
    ) external {
        _admit(root, round, sessionKey, nullifier, proof);
        seated[sessionKey] = true;
        seatRound[sessionKey] = round;
        emit Joined(sessionKey, round, nullifier);
    }
}

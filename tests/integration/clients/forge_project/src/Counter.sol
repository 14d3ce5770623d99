// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.24;

/// @notice What a game developer deploys first: a number that moves and says so.
contract Counter {
    uint256 public number;

    event Bumped(uint256 number);

    constructor(uint256 start) {
        number = start;
    }

    function bump() external {
        number += 1;
        emit Bumped(number);
    }
}

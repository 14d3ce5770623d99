// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.24;

import {Counter} from "../src/Counter.sol";

/// The cheatcodes this script uses (forge-std is not installed: no library downloads).
interface Vm {
    function startBroadcast() external;
    function stopBroadcast() external;
}

/// `forge script --broadcast`: deploys a Counter from 40 and bumps it twice.
contract Bump {
    Vm private constant VM = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    function run() external {
        VM.startBroadcast();
        Counter counter = new Counter(40);
        counter.bump();
        counter.bump();
        VM.stopBroadcast();
    }
}

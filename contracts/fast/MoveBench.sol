// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.24;

/// @title MoveBench
/// @notice A stand-in for a game move, sized for the fast-chain benchmark: every move costs
///         the same three storage writes and one event as a real move would, and nothing else.
contract MoveBench {
    struct Position {
        uint32 x;
        uint32 y;
    }

    /// Board side; coordinates wrap around so a move never fails.
    uint32 public constant SIZE = 1024;

    mapping(address => Position) private positions;
    mapping(address => uint64) private moveCounts;
    uint64 public totalMoves;

    event Moved(address indexed player, uint32 x, uint32 y, uint64 n);

    /// @param dir 0 = up, 1 = right, 2 = down, 3 = left; higher values use dir % 4.
    function move(uint8 dir) external {
        Position memory p = positions[msg.sender];
        uint8 d = dir % 4;
        if (d == 0) {
            p.y = (p.y + 1) % SIZE;
        } else if (d == 1) {
            p.x = (p.x + 1) % SIZE;
        } else if (d == 2) {
            p.y = (p.y + SIZE - 1) % SIZE;
        } else {
            p.x = (p.x + SIZE - 1) % SIZE;
        }
        // The three writes: the position (one slot), the player's count and the global count.
        positions[msg.sender] = p;
        uint64 n = moveCounts[msg.sender] + 1;
        moveCounts[msg.sender] = n;
        totalMoves += 1;
        emit Moved(msg.sender, p.x, p.y, n);
    }

    function position(address player) external view returns (uint32 x, uint32 y, uint64 n) {
        Position memory p = positions[player];
        return (p.x, p.y, moveCounts[player]);
    }
}

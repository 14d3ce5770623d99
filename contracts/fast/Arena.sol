// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.24;

import {PassGate} from "contracts/fast/PassGate.sol";

interface IArenaOutbox {
    function MESSAGE_FEE() external view returns (uint256);

    function requestRewardMint(uint32 collection, uint32 round, address to, uint256 metadata)
        external
        payable
        returns (uint64 seq);
}

/// @title Arena
/// @notice The Duet game's rules (game/README.md). Players who prove a game pass on the ZK
///         chain take a seat for a round with a session key; every move is one transaction of
///         that key, checked here: one step, on the board, not onto another player, inside the
///         round's time. Stepping on an item scores a point and the item reappears elsewhere,
///         at a cell drawn from the round's seed (PREVRANDAO when the round started) and a
///         counter. After the round's end anyone may close it: the best players (at most
///         WINNERS, with at least one point) are sent reward tokens through the outbox, which
///         the ZK chain mints only within its per-round cap.
/// @dev Session keys are paid for by the game: a join pays `entryFee` into this contract's
///      budget, and the session key receives `sessionAllowance` from it for gas. The budget
///      also pays the outbox's fee for each reward (a join leaves WINNERS of them in it, so a
///      round can always end), and can be topped up by a plain transfer.
contract Arena is PassGate {
    uint8 public constant WIDTH = 24;
    uint8 public constant HEIGHT = 12;
    uint8 public constant ITEMS = 6;
    uint8 public constant MAX_PLAYERS = 16;
    /// As many as the ZK chain mints per round (ROUND_MINT_CAP in chain/zk/genesis.py).
    uint8 public constant WINNERS = 3;
    uint8 public constant UP = 0;
    uint8 public constant RIGHT = 1;
    uint8 public constant DOWN = 2;
    uint8 public constant LEFT = 3;

    IArenaOutbox public immutable outbox;
    uint32 public immutable rewardCollection;
    uint64 public immutable roundSeconds;
    uint256 public immutable entryFee;
    uint256 public immutable sessionAllowance;

    struct Player {
        uint8 x;
        uint8 y;
        uint32 score;
        uint32 round; // the round this session key sits in
        address payout; // the ZK-chain address its rewards go to
    }

    /// The round players join now; it starts (its clock runs) at its first join.
    uint32 public round = 1;
    /// When the current round stops taking moves; 0 until its first join.
    uint64 public roundEnds;
    uint256 public seed;
    uint32 internal spawned; // items placed this round: the next placement's counter
    address[] internal roster;
    mapping(address => Player) public players;
    mapping(uint256 => address) internal occupant; // (round, cell) → session key
    uint16[ITEMS] internal items; // the cell of each item

    event RoundStarted(uint32 indexed round, uint64 ends, uint256 seed);
    event Joined(uint32 indexed round, address indexed sessionKey, address payout, uint8 x, uint8 y);
    event Moved(uint32 indexed round, address indexed sessionKey, uint8 x, uint8 y, uint32 score);
    event ItemPlaced(uint32 indexed round, uint8 index, uint8 x, uint8 y);
    event RoundEnded(uint32 indexed round, address[] winners, uint32[] scores);

    error WrongRound(uint32 given, uint32 current);
    error RoundOver(uint32 round);
    error RoundNotOver(uint32 round, uint64 ends);
    error WrongEntryFee(uint256 given, uint256 fee);
    error AlreadySeated(address sessionKey);
    error ArenaFull();
    error ZeroPayout();
    /// The session key did not sign this payout for this arena and round (`payoutDigest`).
    error PayoutNotSigned(address sessionKey, address payout);
    error NotSeated(address sessionKey);
    error BadDirection(uint8 direction);
    error OffBoard(uint8 x, uint8 y, uint8 direction);
    error Blocked(address by);
    error BudgetTooLow(uint256 balance, uint256 needed);
    error AllowanceFailed(address sessionKey);

    constructor(
        bytes32 ownershipVkId_,
        uint256 passCollection_,
        IArenaOutbox outbox_,
        uint32 rewardCollection_,
        uint64 roundSeconds_,
        uint256 entryFee_,
        uint256 sessionAllowance_
    ) PassGate(ownershipVkId_, passCollection_) {
        outbox = outbox_;
        rewardCollection = rewardCollection_;
        roundSeconds = roundSeconds_;
        entryFee = entryFee_;
        sessionAllowance = sessionAllowance_;
    }

    /// Top-ups of the session budget.
    receive() external payable {}

    // -- joining -------------------------------------------------------------------------

    /// Seat `sessionKey` in round `round_` with a pass proof (PassGate), its rewards going to
    /// `payout` on the ZK chain, which the session key signed (`payoutSignature`: r ‖ s ‖ v
    /// over `payoutDigest`); the session key receives its gas allowance. The proof binds the
    /// session key and the signature the payout, so a proof copied from a pending or reverted
    /// join seats its own player with its own payout, never another's.
    function join(
        bytes32 root,
        uint32 round_,
        address sessionKey,
        uint256 nullifier,
        bytes calldata proof,
        address payout,
        bytes calldata payoutSignature
    ) external payable {
        if (round_ != round) revert WrongRound(round_, round);
        if (roundEnds != 0 && block.timestamp >= roundEnds) revert RoundOver(round);
        if (msg.value != entryFee) revert WrongEntryFee(msg.value, entryFee);
        if (players[sessionKey].round == round) revert AlreadySeated(sessionKey);
        if (roster.length >= MAX_PLAYERS) revert ArenaFull();
        if (payout == address(0)) revert ZeroPayout();
        _checkPayout(round_, sessionKey, payout, payoutSignature);
        uint256 needed = sessionAllowance + WINNERS * outbox.MESSAGE_FEE();
        if (address(this).balance < needed) revert BudgetTooLow(address(this).balance, needed);
        _admit(root, round_, sessionKey, nullifier, proof);
        if (roundEnds == 0) _startRound();
        uint16 cell = _freeCell(uint256(keccak256(abi.encode(seed, sessionKey))));
        uint8 x = uint8(cell % WIDTH);
        uint8 y = uint8(cell / WIDTH);
        occupant[_slot(cell)] = sessionKey;
        players[sessionKey] = Player(x, y, 0, round, payout);
        roster.push(sessionKey);
        emit Joined(round, sessionKey, payout, x, y);
        (bool sent,) = sessionKey.call{value: sessionAllowance}("");
        if (!sent) revert AllowanceFailed(sessionKey);
    }

    /// What a session key signs to name its payout: the EIP-191 digest of keccak256(this
    /// arena, its chain, the round, the payout), so the signature is good for one seat only.
    function payoutDigest(uint32 round_, address payout) public view returns (bytes32) {
        bytes32 message = keccak256(abi.encode(address(this), block.chainid, round_, payout));
        return keccak256(abi.encodePacked("\x19Ethereum Signed Message:\n32", message));
    }

    function _checkPayout(uint32 round_, address sessionKey, address payout, bytes calldata signature)
        internal
        view
    {
        address signer;
        if (signature.length == 65) {
            bytes32 r = bytes32(signature[0:32]);
            bytes32 s = bytes32(signature[32:64]);
            signer = ecrecover(payoutDigest(round_, payout), uint8(signature[64]), r, s);
        }
        if (signer == address(0) || signer != sessionKey) revert PayoutNotSigned(sessionKey, payout);
    }

    function _startRound() internal {
        roundEnds = uint64(block.timestamp) + roundSeconds;
        seed = uint256(keccak256(abi.encode(block.prevrandao, round)));
        emit RoundStarted(round, roundEnds, seed);
        for (uint8 i = 0; i < ITEMS; i++) {
            _placeItem(i);
        }
    }

    // -- moving --------------------------------------------------------------------------

    /// One step of the sender's session key: UP, RIGHT, DOWN or LEFT.
    function move(uint8 direction) external {
        Player storage p = players[msg.sender];
        if (p.round != round || roundEnds == 0) revert NotSeated(msg.sender);
        if (block.timestamp >= roundEnds) revert RoundOver(round);
        (uint8 x, uint8 y) = _step(p.x, p.y, direction);
        uint16 to = uint16(y) * WIDTH + x;
        address other = occupant[_slot(to)];
        if (other != address(0)) revert Blocked(other);
        delete occupant[_slot(uint16(p.y) * WIDTH + p.x)];
        occupant[_slot(to)] = msg.sender;
        p.x = x;
        p.y = y;
        for (uint8 i = 0; i < ITEMS; i++) {
            if (items[i] == to) {
                p.score += 1;
                emit Moved(round, msg.sender, x, y, p.score);
                _placeItem(i);
                return;
            }
        }
        emit Moved(round, msg.sender, x, y, p.score);
    }

    function _step(uint8 x, uint8 y, uint8 direction) internal pure returns (uint8, uint8) {
        if (direction == UP && y > 0) return (x, y - 1);
        if (direction == DOWN && y + 1 < HEIGHT) return (x, y + 1);
        if (direction == LEFT && x > 0) return (x - 1, y);
        if (direction == RIGHT && x + 1 < WIDTH) return (x + 1, y);
        if (direction > LEFT) revert BadDirection(direction);
        revert OffBoard(x, y, direction);
    }

    // -- the round's end -----------------------------------------------------------------

    /// Close the round once its time is up: reward the best players, open the next round.
    function endRound() external {
        if (roundEnds == 0 || block.timestamp < roundEnds) revert RoundNotOver(round, roundEnds);
        (address[] memory winners, uint32[] memory scores) = _rank();
        uint256 fee = outbox.MESSAGE_FEE();
        for (uint256 i = 0; i < winners.length; i++) {
            // metadata: round (bits 64..95), score (bits 32..63), place (bits 0..7), from 1
            uint256 metadata = (uint256(round) << 64) | (uint256(scores[i]) << 32) | (i + 1);
            address payout = players[winners[i]].payout;
            outbox.requestRewardMint{value: fee}(rewardCollection, round, payout, metadata);
        }
        emit RoundEnded(round, winners, scores);
        round += 1;
        roundEnds = 0;
        spawned = 0;
        delete roster;
    }

    /// The seated players with at least one point, best first (earlier joins first on a tie),
    /// at most WINNERS of them.
    function _rank() internal view returns (address[] memory winners, uint32[] memory scores) {
        address[] memory best = new address[](WINNERS);
        uint32[] memory top = new uint32[](WINNERS);
        uint256 count = 0;
        for (uint256 i = 0; i < roster.length; i++) {
            uint32 score = players[roster[i]].score;
            if (score == 0) continue;
            uint256 at = count < WINNERS ? count : WINNERS;
            while (at > 0 && top[at - 1] < score) at--;
            if (at >= WINNERS) continue;
            uint256 last = count < WINNERS ? count : WINNERS - 1;
            for (uint256 j = last; j > at; j--) {
                best[j] = best[j - 1];
                top[j] = top[j - 1];
            }
            best[at] = roster[i];
            top[at] = score;
            if (count < WINNERS) count++;
        }
        winners = new address[](count);
        scores = new uint32[](count);
        for (uint256 i = 0; i < count; i++) {
            winners[i] = best[i];
            scores[i] = top[i];
        }
    }

    // -- reads ---------------------------------------------------------------------------

    function rosterOf() external view returns (address[] memory) {
        return roster;
    }

    function itemCells() external view returns (uint16[ITEMS] memory) {
        return items;
    }

    // -- cells ---------------------------------------------------------------------------

    function _slot(uint16 cell) internal view returns (uint256) {
        return (uint256(round) << 16) | cell;
    }

    function _placeItem(uint8 index) internal {
        uint16 cell = _freeCell(uint256(keccak256(abi.encode(seed, spawned))));
        spawned += 1;
        items[index] = cell;
        emit ItemPlaced(round, index, uint8(cell % WIDTH), uint8(cell / WIDTH));
    }

    /// The first cell from `draw` (mod the board, then onwards) with neither a player nor an
    /// item on it; with at most MAX_PLAYERS + ITEMS taken there always is one.
    function _freeCell(uint256 draw) internal view returns (uint16) {
        uint16 cells = uint16(WIDTH) * HEIGHT;
        uint16 cell = uint16(draw % cells);
        while (occupant[_slot(cell)] != address(0) || _hasItem(cell)) {
            cell = (cell + 1) % cells;
        }
        return cell;
    }

    function _hasItem(uint16 cell) internal view returns (bool) {
        for (uint8 i = 0; i < ITEMS; i++) {
            if (items[i] == cell) return true;
        }
        return false;
    }
}

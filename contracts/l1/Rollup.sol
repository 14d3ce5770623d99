// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.24;

/// The L1 ZKPoW token as the rollup uses it: ZkPow reverts with a named error on any failure
/// (contracts/l1/ZkPow.sol), so neither call ever returns false.
interface IZkPow {
    function transfer(address to, uint256 value) external returns (bool);
    function transferFrom(address from, address to, uint256 value) external returns (bool);
}

/// @title Rollup
/// @notice The ZK chain settled on L1: the settled state root and height, a commitment per
///         settled block, and `submitBlock`, which takes a block's operations as calldata (so
///         the data is on L1) with their Groth16 proofs and checks them all in one batched
///         verification. The bridge of ZKPoW: `deposit` locks L1 ZKPoW in a queue that the
///         ZK chain's deposit operations must credit exactly and in order, and each settled
///         block's withdraw operations become leaves of a withdrawals root that
///         `claimWithdrawal` pays out of, once each. docs/l1.md describes the calldata, the
///         check, the bridge and every error.
/// @dev Every operation circuit's public inputs are [preRoot, postRoot, w1..wk]. No pre-root
///      travels per operation: the contract chains the statements itself, pre_0 = settledRoot
///      and pre_{j+1} = post_j, so a block proves one path from the settled root.
///
///      The batch check, for n proofs (A_j, B_j, C_j) and coefficients r_0 = 1,
///      r_j = keccak256(seed ‖ j) mod R, seed = keccak256(abi.encode(preRoot, keccak256(ops))):
///
///        Π_j e(r_j·A_j, B_j) · e(-(Σ_j r_j)·α, β) · e(-Σ_j r_j·L_j, γ) · Π_g e(-Σ_{j∈g} r_j·C_j, δ_g) = 1
///
///      with L_j = IC_0 + Σ_i x_{j,i}·IC_i under op j's key, g over the distinct δ of the
///      block's circuits: n + 2 + g pairings. α, β and γ must be the same in every key (snarkjs
///      keys of one powers of tau share α and β, and γ is the G2 generator); the constructor
///      refuses keys that differ. Σ_j r_j·L_j is folded per circuit with scalar arithmetic mod
///      R first, (Σ_j r_j)·IC_0 + Σ_i (Σ_j r_j·x_{j,i})·IC_i, so its ecMuls are per circuit and
///      input, not per operation and input.
///
///      The keys live in one data contract (the SSTORE2 pattern: its code is the data, read
///      with EXTCODECOPY), written by the constructor, so no Solidity is generated per
///      ceremony. Its code: 0x00 ‖ words[N] ‖ deltaGroup[N] ‖ keyOffset[N] (uint16) ‖ the keys,
///      each δ ‖ IC[]. A block reads the 4N-byte header once, then each of its circuits' keys.
///
///      Slots: submission agents take turns by L1 block. Slot s = (block.number - scheduleStart)
///      / slotBlocks belongs to agents[s % agents.length], and only that agent may submit in
///      it, until more than graceBlocks L1 blocks have passed since the last settlement: then
///      anyone may, so a dead agent cannot stall settlement.
///
///      Bridge ops: after the batch check, a block holding a deposit or withdraw op (the
///      first pass records which circuits a block holds) gets a second, cheap pass that reads
///      only those ops' words. Deposit op: w1 = index (64) | to (160) | toIndex (12),
///      w2 = amount; withdraw op: w1 = header, w2 = to (the L1 recipient), w3 = amount.
///      Withdrawal leaf: keccak256(abi.encode(uint64 height, uint256 position, address to,
///      uint256 amount)), position counting the block's withdrawals from 0; the root is the
///      binary keccak tree over the leaves in position order, padded with bytes32(0) leaves to
///      a power of two, a node keccak256(left ‖ right) (chain/l1/withdrawals.py).
contract Rollup {
    /// BN254's scalar field: public inputs and the batch coefficients live here.
    uint256 internal constant R =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// BN254's base field: coordinates of the curve points.
    uint256 internal constant P =
        21888242871839275222246405745257275088696311157297823662689037894645226208583;

    // Precompiles (EIP-196, EIP-197) and their gas (EIP-1108). A failed precompile call burns
    // the gas it was given, so each gets exactly its price, not all that is left.
    uint256 internal constant EC_ADD = 0x06;
    uint256 internal constant EC_MUL = 0x07;
    uint256 internal constant EC_PAIRING = 0x08;
    uint256 internal constant EC_ADD_GAS = 150;
    uint256 internal constant EC_MUL_GAS = 6000;
    uint256 internal constant PAIRING_BASE_GAS = 45000;
    uint256 internal constant PAIRING_PER_PAIR_GAS = 34000;

    uint256 internal constant G1_BYTES = 64;
    uint256 internal constant G2_BYTES = 128;
    uint256 internal constant PAIR_BYTES = 192; // one pairing's input: a G1 point, a G2 point
    uint256 internal constant PROOF_BYTES = 256; // A (G1), B (G2), C (G1)
    /// One op's bytes besides its words: circuit id (1), post-root (32), proof (256).
    uint256 internal constant OP_FIXED_BYTES = 289;
    /// A key as the constructor takes it: α (G1), β, γ, δ (G2), then IC[0..nPublic] (G1).
    uint256 internal constant VK_SHARED_BYTES = 320; // α ‖ β ‖ γ
    uint256 internal constant VK_HEADER_BYTES = 448; // α ‖ β ‖ γ ‖ δ
    /// IC has a point for the constant 1 and one per public input: preRoot, postRoot, w1.. .
    uint256 internal constant MIN_IC_POINTS = 3;
    uint256 internal constant MAX_CIRCUITS = 256; // a circuit id is one byte
    uint256 internal constant MAX_KEY_DATA_BYTES = 24575; // EIP-170, less the leading 0x00
    uint256 internal constant HEADER_BYTES_PER_CIRCUIT = 4; // words, group, key offset (2)

    // Memory while a block is checked, from its base m: scratch for precompile inputs, the
    // running sums, bookkeeping, the key header; then the regions sized by the keys (pointers).
    uint256 internal constant M_SCRATCH = 0x000; // 5 words
    uint256 internal constant M_L_SUM = 0x0a0; // Σ_j r_j·L_j (G1)
    uint256 internal constant M_R_SUM = 0x0e0; // Σ_j r_j
    uint256 internal constant M_SEEN = 0x100; // bitmap of the circuit ids in the block
    uint256 internal constant M_OK = 0x120; // 1 until a precompile call fails
    uint256 internal constant M_FAULT = 0x140; // FAULT_* found while reading the ops
    uint256 internal constant M_FAULT_ARG = 0x160; // the circuit id or input index at fault
    uint256 internal constant M_STATE = 0x180; // → per circuit id: Σ r_j·C_j (G1), Σ r_j, Σ r_j·x_{j,i}
    uint256 internal constant M_STRIDE = 0x1a0; // bytes per circuit id at M_STATE
    uint256 internal constant M_GROUPS = 0x1c0; // → per δ group: Σ r_j·C_j (G1), δ (G2): a pair
    uint256 internal constant M_KEY = 0x1e0; // → one circuit's δ ‖ IC[]
    uint256 internal constant M_PAIRS = 0x200; // → the pairing input: a pair per proof, then α's, γ's, each group's
    uint256 internal constant M_COUNT = 0x220; // circuitCount
    uint256 internal constant M_HEADER = 0x240; // the key data's header: words[N] ‖ group[N] ‖ offset[N]

    // Faults found while reading the ops, raised as errors once out of the assembly.
    uint256 internal constant FAULT_UNKNOWN_CIRCUIT = 1;
    uint256 internal constant FAULT_TRUNCATED = 2;
    uint256 internal constant FAULT_INPUT = 3;

    /// EIP-712: the domain ("Duet", "1", this chain, this rollup) and what the sequencer signs.
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant BLOCK_TYPEHASH = keccak256(
        "Block(uint64 number,uint64 height,uint64 timestamp,uint256 preRoot,uint256 postRoot,bytes32 opsHash)"
    );
    uint256 internal constant SIGNATURE_BYTES = 65; // r ‖ s ‖ v
    /// How far ahead of L1's clock an attested timestamp may be (Ethereum's own allowance).
    uint256 internal constant MAX_TIMESTAMP_DRIFT_S = 15;

    /// The largest deposit: an amount on the ZK chain is below 2^96.
    uint256 internal constant MAX_AMOUNT = type(uint96).max;
    /// Word counts of the bridge circuits: the second pass reads them at fixed offsets.
    uint256 internal constant DEPOSIT_WORDS = 2;
    uint256 internal constant WITHDRAW_WORDS = 3;
    uint256 internal constant ADDRESS_MASK = (1 << 160) - 1;
    uint256 internal constant DEPOSIT_INDEX_MASK = (1 << 64) - 1;

    /// The ZK state root after the last settled block (a field element).
    uint256 public settledRoot;
    /// The height of the last settled ZK block; 0 before the first (genesis).
    uint64 public settledHeight;
    /// The L1 block of the last settlement (of the deployment before the first): the grace
    /// period counts from here. Packed with settledHeight, so it costs no slot of its own.
    uint64 public settledAtBlock;
    /// How many deposits the settled blocks have credited: deposits 0 .. depositsCredited - 1.
    /// In the same slot as settledHeight, which every settlement writes anyway.
    uint64 public depositsCredited;
    /// How many blocks have settled: the rollup numbers them itself, 1, 2, ..., and the
    /// sequencer's attestation names the number, so no caller picks where a block goes. In
    /// the settled height's slot too.
    uint64 public settlementCount;
    /// The attested timestamp (seconds) of the last settled block: never goes backwards.
    uint64 public settledTimestamp;
    /// The forced queue: Withdraws queued 0 .. forcedCount - 1, of which the settled blocks
    /// have included (executed or proven refused) 0 .. forcedIncluded - 1, in order. With
    /// `frozen`, in the settled timestamp's slot, which every settlement reads and writes
    /// anyway: the checks of the queue and of the freeze cost no slot of their own.
    uint64 public forcedCount;
    uint64 public forcedIncluded;
    /// Once frozen (a queued Withdraw left out past freezeDelay), nothing settles: accounts
    /// exit with their balance under the settled root, uncredited deposits are refunded.
    bool public frozen;
    /// keccak256(abi.encode(preRoot, postRoot, keccak256(ops))) of each settled block by height.
    mapping(uint64 => bytes32) public blockCommitment;

    /// The ZK state root at height 0.
    uint256 public immutable genesisRoot;
    /// The deployer: the only account that may register submission agents.
    address public immutable owner;
    /// L1 blocks per slot.
    uint256 public immutable slotBlocks;
    /// L1 blocks after a settlement during which only the slot's agent may submit.
    uint256 public immutable graceBlocks;
    /// The L1 block where slot 0 starts: the deployment's.
    uint256 public immutable scheduleStart;
    /// The submission agents in the order of registration; slot s is agents[s % length]'s.
    address[] public agents;
    mapping(address => bool) public isAgent;

    /// An L1 deposit: ZKPoW locked here for `to` on the ZK chain, made in L1 block `l1Block`.
    /// `to` and `amount` share one slot, which is what the credit check reads.
    struct DepositRecord {
        address to;
        uint96 amount;
        uint64 l1Block;
    }

    /// The constructor's bridge parameters (one argument: a struct keeps the stack shallow).
    struct Bridge {
        IZkPow token;
        uint8 depositCircuit;
        uint8 withdrawCircuit;
    }

    /// The constructor's parameters besides the keys and agents (a struct keeps the stack
    /// shallow): the slot schedule, the bridge, and the sequencer's keys with their weights.
    struct Config {
        uint256 slotBlocks; // L1 blocks per slot (chain/l1/config.py has the defaults)
        uint256 graceBlocks; // L1 blocks after a settlement before anyone may submit
        Bridge bridge;
        address[] sequencers;
        uint256[] weights; // a sequencer's stake; the dev node's one key weighs 1
        /// Per circuit id, how its signed operation's EIP-712 struct is read from its words
        /// (zero for an unsigned circuit): the struct's type hash, and its fields packed as
        /// count (8 bits) then per field (24 bits): word index (4), kind (4: 1 = gwei), shift, bits (8 each).
        bytes32[] opTypeHashes;
        uint256[] opFields;
        /// Mint epochs: seconds per epoch, and per circuit id where its epoch field is (zero
        /// for a circuit without one): word index, shift, bits (8 bits each), then 1 << 24.
        uint256 epochSeconds;
        uint256[] opEpochPlaces;
        Escape escape;
        Stake stake;
    }

    /// Validator stake (docs/l1.md, "Stake"): with `follow`, the sequencers are validators whose
    /// weights are their bonded ZKPoW on the ZK chain, which the settled Bond, Unbond and Slash
    /// operations (these circuit ids) move. Without it (the dev node), the weights stay fixed.
    struct Stake {
        bool follow;
        uint8 bondCircuit;
        uint8 unbondCircuit;
        uint8 slashCircuit;
    }

    /// Forced inclusion and the escape hatch (docs/l1.md, "Forced withdrawals and the escape
    /// hatch"): the circuit ids of a proven refusal and of an exit, the delays, and the fee.
    struct Escape {
        uint8 refuseCircuit; // refuse_withdraw: a queued Withdraw proven invalid (post = pre)
        uint8 exitCircuit; // exit: an account's leaf under a root (never an operation)
        uint64 forceDelay; // seconds after which a queued Withdraw must be in the next block
        uint64 freezeDelay; // seconds after which anyone may freeze if it still is not
        uint256 forceFee; // wei of ETH a queued Withdraw pays, against spam
    }

    /// A Withdraw queued on L1: keccak256 of its three words, and when it was queued.
    struct Forced {
        bytes32 wordsHash;
        uint64 queuedAt;
    }

    /// What the sequencer attests of a block besides its operations, as submitBlock takes it.
    struct BlockHeader {
        uint64 height; // the ZK height, for information (never decreases)
        uint64 timestamp; // the ZK block's time, seconds: mint epochs count from it
        uint256 preRoot; // the settled root the block starts from
    }

    /// The ZKPoW token on L1, locked for deposits and paid out for withdrawals.
    IZkPow public immutable token;
    /// The circuit ids of the bridge ops, and their bits in a block's bitmap of circuits.
    uint8 public immutable depositCircuit;
    uint8 public immutable withdrawCircuit;
    uint256 internal immutable bridgeCircuits;
    /// Deposits made: deposit numbers 0 .. depositCount - 1.
    uint64 public depositCount;
    /// Deposit number → what was locked (zeros for a number not yet made).
    mapping(uint64 => DepositRecord) public deposits;
    /// The withdrawals root of each settled height that held withdrawals (zero otherwise).
    mapping(uint64 => bytes32) public withdrawalRoot;
    /// height → position / 256 → a bit per claimed withdrawal.
    mapping(uint64 => mapping(uint256 => uint256)) internal claimedBits;

    /// The sequencer's key set: a block settles only with signatures of more than two
    /// thirds of its weight on the block (`attestation`). The dev node: one key.
    address[] public sequencers;
    mapping(address => bool) public isSequencer;
    /// A sequencer's weight: its stake, fixed at deployment or followed (Config.stake).
    mapping(address => uint256) public sequencerWeight;
    uint256 public sequencerTotalWeight;
    bool public immutable followStake;
    uint8 public immutable bondCircuit;
    uint8 public immutable unbondCircuit;
    uint8 public immutable slashCircuit;
    uint256 internal immutable stakeCircuits; // their bits in a block's bitmap of circuits
    /// Signed operations (Config.opTypeHashes, Config.opFields): per circuit id, the EIP-712
    /// type hash of what its `from` signs, and where each of its fields sits in the words.
    mapping(uint256 => bytes32) public opTypeHash;
    /// Per circuit id, one word read once an op: its signed fields (Config.opFields, low 224
    /// bits: nine fields at most) and its epoch place (Config.opEpochPlaces, the top 32 bits).
    mapping(uint256 => uint256) internal opRules;
    uint256 internal constant FIELDS_BITS = 224;
    uint256 internal constant FIELDS_MASK = (1 << FIELDS_BITS) - 1;
    /// Mint epochs (Config.epochSeconds, Config.opEpochPlaces): a mint's epoch word must be
    /// the block's attested timestamp / epochSeconds, so mint caps count L1-bounded time.
    uint256 public immutable epochSeconds;

    /// The forced queue's Withdraws, by number (forcedCount and forcedIncluded are above).
    mapping(uint256 => Forced) public forced;
    mapping(uint256 => bool) public exited; // by account index
    mapping(uint256 => bool) public refunded; // by deposit number
    uint8 public immutable refuseCircuit;
    uint8 public immutable exitCircuit;
    uint64 public immutable forceDelay;
    uint64 public immutable freezeDelay;
    uint256 public immutable forceFee;
    /// The EIP-712 domain of what L1 checks signatures on: this rollup, on this chain.
    bytes32 public immutable domainSeparator;

    /// The data contract holding every circuit's key (layout above).
    address public immutable keyData;
    uint256 public immutable circuitCount;
    uint256 internal immutable maxIcPoints;
    // The key parts shared by every circuit (EIP-197 order: G2 coordinates imaginary first).
    uint256 internal immutable alphaX;
    uint256 internal immutable alphaY;
    uint256 internal immutable betaX1;
    uint256 internal immutable betaX0;
    uint256 internal immutable betaY1;
    uint256 internal immutable betaY0;
    uint256 internal immutable gammaX1;
    uint256 internal immutable gammaX0;
    uint256 internal immutable gammaY1;
    uint256 internal immutable gammaY0;

    /// Settlement `number` settled ZK block `height`: the new settled root and the block's
    /// commitment.
    event BlockSettled(uint64 indexed height, uint64 indexed number, uint256 postRoot, bytes32 commitment);
    /// Withdraw `index` queued on L1 by its signer `from`: its words (the withdraw circuit's)
    /// and signature, all a node needs to include it.
    event WithdrawalForced(
        uint64 indexed index, address indexed from, uint256 w1, uint256 w2, uint256 w3, bytes signature
    );
    /// Nothing settles any more: queued Withdraw `index` waited past freezeDelay.
    event RollupFrozen(uint64 index);
    /// Account `index` (`account`) exited with `balance` of L1 ZKPoW.
    event Exited(uint256 indexed index, address indexed account, uint256 balance);
    /// Uncredited deposit `index` paid back to its recipient's L1 address.
    event DepositRefunded(uint64 indexed index, address indexed to, uint256 amount);
    /// `agent` joined the schedule as agents[index].
    event AgentRegistered(address indexed agent, uint256 index);
    /// Deposit number `index`: `amount` of L1 ZKPoW locked, to credit `to` on the ZK chain.
    event Deposited(uint64 indexed index, address indexed to, uint256 amount);
    /// Settled block `height` held `count` withdrawals, under `root`.
    event WithdrawalsSettled(uint64 indexed height, bytes32 root, uint256 count);
    /// Withdrawal `position` of block `height` paid `amount` to `to`.
    event WithdrawalClaimed(uint64 indexed height, uint256 position, address indexed to, uint256 amount);

    /// `height` is settled already: a replayed (or raced) submission.
    error BlockAlreadySettled(uint64 height, uint64 settledHeight);
    /// The attestation is not 65-byte signatures, one at least.
    error MalformedAttestation();
    /// Signature `index` of the attestation is not a sequencer's, or not above the one before
    /// (signers in ascending order, each once): the block as submitted is not what they signed.
    error NotAttested(uint256 index, address signer);
    /// Signed operation `op` of the block has no signature in `signatures`.
    error MissingSignature(uint256 op);
    /// `signatures` holds more than the block's signed operations use.
    error UnusedSignatures(uint256 used, uint256 length);
    /// Operation `op`'s signature is not `from`'s on the operation its words state.
    error NotSignedByFrom(uint256 op, address from, address signer);
    /// The signed-operation tables are longer than the circuit list, or not of one length.
    error BadSigningTables();
    /// `paid` wei is below the force fee.
    error ForceFeeTooLow(uint256 paid, uint256 fee);
    /// A queued Withdraw's words are out of their ranges (the header's 252 bits, a 160-bit
    /// recipient, a 96-bit amount): no circuit could execute or refuse it.
    error BadForcedWithdrawal();
    /// The queued Withdraw's signature is not its `from`'s.
    error ForcedNotSigned(address from, address signer);
    /// Queued Withdraw `index` is older than forceDelay and the block does not start with it.
    error ForcedOperationPending(uint256 index);
    /// The rollup is frozen: nothing settles or is queued; exits and refunds only.
    error RollupIsFrozen();
    /// Exits and refunds wait for a freeze.
    error NotFrozen();
    /// No queued Withdraw has waited past freezeDelay (`index` is the next to include).
    error NotFreezable(uint256 index);
    /// Operation `op` is an exit statement, which never goes in a block.
    error NotAnOperation(uint256 op);
    /// `exit` takes one exit statement: circuit id, account, balance, proof.
    error NotAnExit();
    /// Account `index` has exited already.
    error AlreadyExited(uint256 index);
    /// The account holds nothing to exit with.
    error NothingToExit();
    /// Deposit `index` was credited on the ZK chain (its account exits with it), refunded
    /// already, or never made.
    error NotRefundable(uint256 index);
    /// Operation `op` mints in `epoch`, but the block's attested time is in epoch `expected`.
    error WrongEpoch(uint256 op, uint256 epoch, uint256 expected);
    /// The epoch table is longer than the circuit list, or an epoch lasts no time.
    error BadEpochTable();
    /// The escape circuits are not in the key list, or forcing waits longer than freezing.
    error BadEscape();
    /// An account's first settled Bond (block `height`) made it a sequencer (Config.stake).
    event SequencerJoined(uint64 indexed height, address indexed sequencer);
    /// A sequencer's stake moved by the settled block `height` (Config.stake).
    event StakeMoved(uint64 indexed height, address indexed sequencer, uint256 weight, uint256 totalWeight);
    /// The signers' weight is not above two thirds of `totalWeight`.
    error AttestationTooWeak(uint256 weight, uint256 totalWeight);
    /// The attested timestamp is before the last settled block's, or ahead of L1's clock.
    error BadTimestamp(uint64 timestamp, uint64 settledTimestamp);
    /// A sequencer set is nonzero distinct addresses with nonzero weights, one at least.
    error BadSequencers();
    /// A stake circuit id (Config.stake) that no key has.
    error BadStakeCircuits();
    /// This L1 block is in `expectedAgent`'s slot, and the grace period has not passed.
    error NotYourSlot(address expectedAgent);
    /// Only the owner (the deployer) registers agents.
    error NotOwner(address caller);
    /// An agent is a nonzero address, registered once.
    error InvalidAgent(address agent);
    /// A slot is at least one L1 block.
    error BadSchedule(uint256 slotBlocks, uint256 graceBlocks);
    /// The block starts from `preRoot`, but the settled root is `settledRoot`.
    error WrongPreRoot(uint256 settledRoot, uint256 preRoot);
    /// A block has at least one operation.
    error EmptyBlock();
    /// Operation `op` names circuit `circuitId`, which has no key here.
    error UnknownCircuit(uint256 op, uint256 circuitId);
    /// Operation `op` runs past the end of `ops`: a wrong length.
    error TruncatedOps(uint256 op);
    /// Public input `input` of operation `op` (1 = postRoot, 2.. = w1..) is not below R.
    error InputNotInField(uint256 op, uint256 input);
    /// The batched check failed: some proof is false, or a point is not on its curve.
    error InvalidProofBatch();
    /// The genesis root is not a field element.
    error GenesisRootNotInField(uint256 root);
    /// Between 1 and 256 keys, in at most 24 KB of key data.
    error BadKeyCount(uint256 count);
    /// Key `circuitId` is not α ‖ β ‖ γ ‖ δ ‖ IC[≥ 3] in 32-byte words.
    error MalformedVerificationKey(uint256 circuitId);
    /// Key `circuitId` has another α, β or γ than key 0: one batch could not hold both.
    error VerificationKeyNotShared(uint256 circuitId);
    /// The token is not a contract.
    error InvalidToken(address token);
    /// The bridge circuits are one circuit, or one has no key or not its word count (2, 3).
    error BadBridgeCircuits(uint256 depositCircuit, uint256 withdrawCircuit);
    /// A deposit goes to a nonzero address, with an amount above 0 and below 2^96.
    error InvalidDeposit(address to, uint256 amount);
    /// Operation `op` is a deposit op that does not credit deposit `expectedIndex`, the next
    /// uncredited one: another index (a repeat, a reorder, one skipped), another recipient or
    /// amount, or a deposit not made yet.
    error DepositMismatch(uint256 op, uint64 expectedIndex);
    /// The withdrawal is not under the withdrawals root of `height` (or that height has none).
    error InvalidWithdrawalProof();
    /// Withdrawal `position` of block `height` has been paid already.
    error WithdrawalAlreadyClaimed(uint64 height, uint256 position);

    /// @param genesisRoot_ the ZK state root at height 0.
    /// @param vks each circuit id's key: α ‖ β ‖ γ ‖ δ ‖ IC[0..nPublic], every coordinate a
    ///        32-byte big-endian word, G2 points as x.c1, x.c0, y.c1, y.c0 (EIP-197).
    /// @param initialAgents the first submission agents (more with registerAgent).
    /// @param config the slot schedule, the bridge (the ZKPoW token on L1 and the ids of the
    ///        deposit and withdraw circuits) and the sequencer set.
    constructor(uint256 genesisRoot_, bytes[] memory vks, address[] memory initialAgents, Config memory config) {
        Bridge memory bridge = config.bridge;
        if (genesisRoot_ >= R) revert GenesisRootNotInField(genesisRoot_);
        if (vks.length == 0 || vks.length > MAX_CIRCUITS) revert BadKeyCount(vks.length);
        if (config.slotBlocks == 0) revert BadSchedule(config.slotBlocks, config.graceBlocks);
        if (address(bridge.token).code.length == 0) revert InvalidToken(address(bridge.token));
        token = bridge.token;
        depositCircuit = bridge.depositCircuit;
        withdrawCircuit = bridge.withdrawCircuit;
        bridgeCircuits = (1 << bridge.depositCircuit) | (1 << bridge.withdrawCircuit);
        genesisRoot = genesisRoot_;
        settledRoot = genesisRoot_;
        owner = msg.sender;
        slotBlocks = config.slotBlocks;
        graceBlocks = config.graceBlocks;
        scheduleStart = block.number;
        settledAtBlock = uint64(block.number);
        for (uint256 i = 0; i < initialAgents.length; i++) {
            _registerAgent(initialAgents[i]);
        }
        uint256 maxIc;
        for (uint256 id = 0; id < vks.length; id++) {
            uint256 icPoints = _checkKey(vks[0], vks[id], id);
            if (icPoints > maxIc) maxIc = icPoints;
        }
        _checkBridgeCircuits(vks, bridge.depositCircuit, bridge.withdrawCircuit);
        keyData = _writeKeyData(_encodeKeyData(vks));
        circuitCount = vks.length;
        maxIcPoints = maxIc;
        bytes memory shared = vks[0];
        alphaX = _word(shared, 0);
        alphaY = _word(shared, 1);
        betaX1 = _word(shared, 2);
        betaX0 = _word(shared, 3);
        betaY1 = _word(shared, 4);
        betaY0 = _word(shared, 5);
        gammaX1 = _word(shared, 6);
        gammaX0 = _word(shared, 7);
        gammaY1 = _word(shared, 8);
        gammaY0 = _word(shared, 9);
        sequencerTotalWeight = _setSequencers(config.sequencers, config.weights);
        Stake memory stake = config.stake;
        if (stake.bondCircuit >= vks.length || stake.unbondCircuit >= vks.length || stake.slashCircuit >= vks.length) {
            revert BadStakeCircuits();
        }
        followStake = stake.follow;
        bondCircuit = stake.bondCircuit;
        unbondCircuit = stake.unbondCircuit;
        slashCircuit = stake.slashCircuit;
        stakeCircuits = (1 << stake.bondCircuit) | (1 << stake.unbondCircuit) | (1 << stake.slashCircuit);
        _setSigningTables(config.opTypeHashes, config.opFields, vks);
        if (config.epochSeconds == 0 || config.opEpochPlaces.length > vks.length) revert BadEpochTable();
        epochSeconds = config.epochSeconds;
        Escape memory escape = config.escape;
        if (escape.refuseCircuit >= vks.length || escape.exitCircuit >= vks.length || escape.forceDelay > escape.freezeDelay) {
            revert BadEscape();
        }
        refuseCircuit = escape.refuseCircuit;
        exitCircuit = escape.exitCircuit;
        forceDelay = escape.forceDelay;
        freezeDelay = escape.freezeDelay;
        forceFee = escape.forceFee;
        for (uint256 id = 0; id < config.opEpochPlaces.length; id++) {
            if (config.opEpochPlaces[id] >> (256 - FIELDS_BITS) != 0) revert BadEpochTable();
            opRules[id] |= config.opEpochPlaces[id] << FIELDS_BITS;
        }
        domainSeparator = keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256("Duet"), keccak256("1"), block.chainid, address(this))
        );
    }

    /// @notice Settle the next block: settlement number settlementCount + 1, ZK block
    ///         `header.height`, which takes the state from `header.preRoot` (the settled root)
    ///         through each operation of `ops` in turn, as the sequencer attested it.
    /// @dev The ZK heights between two settlements hold no operation (most ZK blocks are empty
    ///      and leave the root as it is), and none of them can hide a change of state, since
    ///      `preRoot` must be the settled root and the statements chain from it. The rollup
    ///      numbers settlements itself: the attestation covers that number, so a block cannot
    ///      go anywhere but next, and the height is the sequencer's word, kept for reference.
    /// @param ops per operation: circuit id (1 byte) ‖ postRoot (32) ‖ w1..wk (32 each, k fixed
    ///        by the circuit's key) ‖ proof (256: A.x, A.y, B.x.c1, B.x.c0, B.y.c1, B.y.c0,
    ///        C.x, C.y), concatenated with nothing between (chain/l1/calldata.py).
    /// @param signatures each signed operation's EIP-712 signature by its `from`, in block
    ///        order, 65 bytes each (r ‖ s ‖ v): the rollup rebuilds what was signed from the
    ///        operation's words (`opDigest`), so the sequencer cannot settle an operation its
    ///        signer did not sign.
    /// @param attestation the sequencers' EIP-712 signatures of the block (`blockDigest`),
    ///        65 bytes each (r ‖ s ‖ v), in ascending order of signer.
    function submitBlock(
        BlockHeader calldata header,
        bytes calldata ops,
        bytes calldata signatures,
        bytes calldata attestation
    ) external {
        _checkHeader(header);
        if (ops.length == 0) revert EmptyBlock();
        (uint256 m, uint256 postRoot, bytes32 opsHash) = _verifyBlock(header.preRoot, ops);
        uint64 number = _checkAuthority(m, header, postRoot, ops, signatures, attestation);
        _includeForced(ops);
        if (followStake && _load(m, M_SEEN) & stakeCircuits != 0) _followStake(m, ops, header.height);
        if (_load(m, M_SEEN) & bridgeCircuits != 0) _settleBridgeOps(m, ops, header.height);
        _recordSettlement(header, number, postRoot, keccak256(abi.encode(header.preRoot, postRoot, opsHash)));
    }

    /// What no proof shows: each operation's own rules on L1 (signatures, epochs), and that
    /// the block as submitted is the one the sequencers signed as the next settlement; returns
    /// its number.
    function _checkAuthority(
        uint256 m,
        BlockHeader calldata header,
        uint256 postRoot,
        bytes calldata ops,
        bytes calldata signatures,
        bytes calldata attestation
    ) private view returns (uint64 number) {
        _checkOps(m, ops, signatures, header.timestamp / epochSeconds);
        number = settlementCount + 1;
        _checkAttestation(blockDigest(number, header, postRoot, _hashStatements(m, ops)), attestation);
    }

    /// The height moves on, the sender may submit now (its slot, or after the grace period),
    /// the block starts from the settled root, and its time is neither before the last settled
    /// block's nor ahead of L1's clock.
    function _checkHeader(BlockHeader calldata header) private view {
        if (frozen) revert RollupIsFrozen();
        uint64 settled = settledHeight;
        if (header.height <= settled) revert BlockAlreadySettled(header.height, settled);
        if (!maySubmit(msg.sender, block.number)) revert NotYourSlot(slotAgent(block.number));
        if (header.preRoot != settledRoot) revert WrongPreRoot(settledRoot, header.preRoot);
        uint64 last = settledTimestamp;
        if (header.timestamp < last || header.timestamp > block.timestamp + MAX_TIMESTAMP_DRIFT_S) {
            revert BadTimestamp(header.timestamp, last);
        }
    }

    function _recordSettlement(BlockHeader calldata header, uint64 number, uint256 postRoot, bytes32 commitment)
        private
    {
        settledRoot = postRoot;
        settledHeight = header.height;
        settledAtBlock = uint64(block.number);
        settlementCount = number;
        settledTimestamp = header.timestamp;
        blockCommitment[header.height] = commitment;
        emit BlockSettled(header.height, number, postRoot, commitment);
    }

    /// @notice What the sequencers sign for settlement `number`: the EIP-712 digest of
    ///         Block(number, height, timestamp, preRoot, postRoot, opsHash) in this rollup's
    ///         domain, opsHash being keccak256 of the block's statements, each op's circuit
    ///         id ‖ postRoot ‖ words without its proof (the sequencer signs a block before
    ///         any prover has proven it).
    function blockDigest(uint64 number, BlockHeader calldata header, uint256 postRoot, bytes32 opsHash)
        public
        view
        returns (bytes32)
    {
        bytes32 structHash = keccak256(
            abi.encode(
                BLOCK_TYPEHASH, number, header.height, header.timestamp, header.preRoot, postRoot, opsHash
            )
        );
        return keccak256(abi.encodePacked(hex"1901", domainSeparator, structHash));
    }

    function sequencerCount() external view returns (uint256) {
        return sequencers.length;
    }

    /// More than two thirds of the sequencers' weight signed `digest`.
    function _checkAttestation(bytes32 digest, bytes calldata attestation) private view {
        if (attestation.length == 0 || attestation.length % SIGNATURE_BYTES != 0) revert MalformedAttestation();
        uint256 weight;
        address last;
        for (uint256 i = 0; i < attestation.length / SIGNATURE_BYTES; i++) {
            address signer = _recoverAt(digest, attestation[i * SIGNATURE_BYTES:(i + 1) * SIGNATURE_BYTES]);
            if (!isSequencer[signer] || signer <= last) revert NotAttested(i, signer);
            weight += sequencerWeight[signer];
            last = signer;
        }
        if (weight * 3 <= sequencerTotalWeight * 2) revert AttestationTooWeak(weight, sequencerTotalWeight);
    }

    /// keccak256 of each op's circuit id ‖ postRoot ‖ words, without the proofs (their shape
    /// is checked already): the ops hash of the attestation.
    function _hashStatements(uint256 m, bytes calldata ops) private pure returns (bytes32 digest) {
        assembly {
            let buffer := mload(0x40)
            let out := buffer
            let off := ops.offset
            let end := add(ops.offset, ops.length)
            for {} lt(off, end) {} {
                let id := byte(0, calldataload(off))
                let length := add(33, shl(5, byte(0, mload(add(add(m, M_HEADER), id)))))
                calldatacopy(out, off, length)
                out := add(out, length)
                off := add(add(off, length), PROOF_BYTES)
            }
            digest := keccak256(buffer, sub(out, buffer))
        }
    }

    // -- signed operations ------------------------------------------------------------------

    /// The rules L1 checks per operation: each signed operation of `ops` (a circuit with a
    /// type hash) has the next signature of `signatures`, made by the `from` of its first word
    /// on the struct its words state, and no signature is left over; each mint's epoch is the
    /// block's, `epoch`.
    function _checkOps(uint256 m, bytes calldata ops, bytes calldata signatures, uint256 epoch) private view {
        uint256 used;
        uint256 off;
        for (uint256 i = 0; off < ops.length; i++) {
            uint256 id = uint8(ops[off]);
            uint256 end = off + 33 + _wordCountOf(m, id) * 32;
            if (id == exitCircuit) revert NotAnOperation(i);
            uint256 rules = opRules[id];
            if (rules >> FIELDS_BITS != 0) _checkEpoch(i, rules >> FIELDS_BITS, ops[off + 33:end], epoch);
            if (rules & FIELDS_MASK != 0) {
                if (signatures.length < used + SIGNATURE_BYTES) revert MissingSignature(i);
                _checkSigner(i, id, rules & FIELDS_MASK, ops[off + 33:end], signatures[used:used + SIGNATURE_BYTES]);
                used += SIGNATURE_BYTES;
            }
            off = end + PROOF_BYTES;
        }
        if (used != signatures.length) revert UnusedSignatures(used, signatures.length);
    }

    /// Operation `op`'s epoch field (at `place` in `words`) is `epoch`.
    function _checkEpoch(uint256 op, uint256 place, bytes calldata words, uint256 epoch) private pure {
        uint256 start = (place & 0xff) * 32;
        uint256 value = (uint256(bytes32(words[start:start + 32])) >> ((place >> 8) & 0xff))
            & ((1 << ((place >> 16) & 0xff)) - 1);
        if (value != epoch) revert WrongEpoch(op, value, epoch);
    }

    /// Operation `op` (of circuit `id`, with `words`) is signed by the `from` in the low 160
    /// bits of its first word.
    function _checkSigner(uint256 op, uint256 id, uint256 fields, bytes calldata words, bytes calldata signature)
        private
        view
    {
        address from = address(uint160(uint256(bytes32(words[0:32]))));
        address signer = _recoverAt(_digestAt(opTypeHash[id], fields, words), signature);
        if (signer != from || signer == address(0)) revert NotSignedByFrom(op, from, signer);
    }

    /// The highest word index that `fields` reads (0 for none).
    function _maxFieldWord(uint256 fields) private pure returns (uint256 highest) {
        for (uint256 f = 0; f < (fields & 0xff); f++) {
            uint256 word = (fields >> (8 + 24 * f)) & 0xf;
            if (word > highest) highest = word;
        }
    }

    /// @notice Circuit `id`'s signed fields as `opDigest` reads them (zero: unsigned).
    function opFields(uint256 id) external view returns (uint256) {
        return opRules[id] & FIELDS_MASK;
    }

    /// @notice Where circuit `id`'s epoch field is (zero: it has none).
    function opEpochPlace(uint256 id) external view returns (uint256) {
        return opRules[id] >> FIELDS_BITS;
    }

    /// Circuit `id`'s word count, from the key header in the batch memory at `m`.
    function _wordCountOf(uint256 m, uint256 id) private pure returns (uint256 count) {
        assembly {
            count := byte(0, mload(add(add(m, M_HEADER), id)))
        }
    }

    /// @notice The EIP-712 digest of the signed operation whose words are `words`, in this
    ///         rollup's domain: the struct's fields read from the words as `fields` places
    ///         them (chain/l1/op_signing.py computes the same, and chain/zk/signing.py signs it).
    function opDigest(bytes32 typeHash, uint256 fields, bytes calldata words) external view returns (bytes32) {
        if (_maxFieldWord(fields) >= words.length / 32) revert BadSigningTables();
        return _digestAt(typeHash, fields, words);
    }

    /// The digest, built in scratch memory past the free memory pointer (not claimed: the
    /// settlement loop calls it once an op and allocates nothing), reading the words where
    /// they are in calldata.
    function _digestAt(bytes32 typeHash, uint256 fields, bytes calldata words) private view returns (bytes32 digest) {
        uint256 count = fields & 0xff;
        bytes32 separator = domainSeparator;
        assembly {
            let buf := mload(0x40)
            mstore(buf, typeHash)
            for { let f := 0 } lt(f, count) { f := add(f, 1) } {
                let spec := shr(add(8, mul(24, f)), fields)
                let word := calldataload(add(words.offset, shl(5, and(spec, 0xf))))
                let value := and(shr(and(shr(8, spec), 0xff), word), sub(shl(and(shr(16, spec), 0xff), 1), 1))
                if eq(and(shr(4, spec), 0xf), 1) { value := mul(value, 1000000000) }
                mstore(add(buf, shl(5, add(f, 1))), value)
            }
            let structHash := keccak256(buf, shl(5, add(count, 1)))
            mstore(buf, shl(240, 0x1901))
            mstore(add(buf, 2), separator)
            mstore(add(buf, 34), structHash)
            digest := keccak256(buf, 66)
        }
    }

    /// The signer of `digest` by a 65-byte r ‖ s ‖ v `signature` in calldata; zero for none.
    function _recoverAt(bytes32 digest, bytes calldata signature) private view returns (address signer) {
        assembly {
            let buf := mload(0x40)
            mstore(buf, digest)
            mstore(add(buf, 0x20), byte(0, calldataload(add(signature.offset, 64))))
            calldatacopy(add(buf, 0x40), signature.offset, 64)
            mstore(0x00, 0)
            let ok := staticcall(gas(), 1, buf, 0x80, 0x00, 0x20)
            signer := mul(mload(0x00), and(ok, eq(returndatasize(), 0x20)))
        }
    }

    /// The tables, each field within its circuit's words (so settlement need not check it).
    function _setSigningTables(bytes32[] memory typeHashes, uint256[] memory fields, bytes[] memory vks) private {
        if (typeHashes.length != fields.length || typeHashes.length > vks.length) revert BadSigningTables();
        for (uint256 id = 0; id < typeHashes.length; id++) {
            if ((typeHashes[id] == bytes32(0)) != (fields[id] == 0)) revert BadSigningTables();
            if (fields[id] != 0 && _maxFieldWord(fields[id]) >= _wordCount(vks[id])) revert BadSigningTables();
            if (fields[id] >> FIELDS_BITS != 0) revert BadSigningTables();
            opTypeHash[id] = typeHashes[id];
            opRules[id] = fields[id];
        }
    }

    function _setSequencers(address[] memory keys, uint256[] memory weights) private returns (uint256 total) {
        if (keys.length == 0 || keys.length != weights.length) revert BadSequencers();
        for (uint256 i = 0; i < keys.length; i++) {
            address key = keys[i];
            if (key == address(0) || weights[i] == 0 || isSequencer[key]) revert BadSequencers();
            isSequencer[key] = true;
            sequencerWeight[key] = weights[i];
            sequencers.push(key);
            total += weights[i];
        }
    }

    /// Each settled Bond, Unbond and Slash of a sequencer moves its weight by the bonded stake
    /// it moved: a Bond's or Unbond's amount (w3; the sequencer signed it: `from`, the low 160
    /// bits of w1), what a Slash burned of the bonded stake (w2; the validator in w1's low
    /// bits). The proofs bind each to the ZK chain's stake, and the weights start as the
    /// genesis stakes, so they stay the sequencers' bonded stake. A Bond of an account that is
    /// no sequencer makes it one (a validator joining after genesis: the sequencers refuse the
    /// Bond of an account that has not registered a consensus key); an Unbond or Slash of one
    /// moves nothing. A decrease stops at zero (it cannot pass it while the weights follow).
    function _followStake(uint256 m, bytes calldata ops, uint64 height) private {
        uint256 total = sequencerTotalWeight;
        uint256 off;
        while (off < ops.length) {
            uint256 id = uint8(ops[off]);
            uint256 w = off + 33;
            off = w + (_wordCount(m, id) << 5) + PROOF_BYTES;
            if (id != bondCircuit && id != unbondCircuit && id != slashCircuit) continue;
            address who = address(uint160(uint256(bytes32(ops[w:w + 32]))));
            if (!isSequencer[who]) {
                if (id != bondCircuit) continue;
                isSequencer[who] = true;
                sequencers.push(who);
                emit SequencerJoined(height, who);
            }
            uint256 at = w + (id == slashCircuit ? 32 : 64);
            uint256 amount = uint256(bytes32(ops[at:at + 32]));
            uint256 weight = sequencerWeight[who];
            if (id == bondCircuit) {
                weight += amount;
                total += amount;
            } else {
                uint256 cut = amount < weight ? amount : weight;
                weight -= cut;
                total -= cut;
            }
            sequencerWeight[who] = weight;
            emit StakeMoved(height, who, weight, total);
        }
        sequencerTotalWeight = total;
    }

    /// How many words circuit `id`'s statement has (the key data's header, read into memory).
    function _wordCount(uint256 m, uint256 id) private pure returns (uint256 n) {
        assembly {
            n := byte(0, mload(add(add(m, M_HEADER), id)))
        }
    }

    // -- forced withdrawals and the escape hatch ----------------------------------------------

    /// @notice Queue a Withdraw that the sequencer ignores: its three words (the withdraw
    ///         circuit's: from | fromIndex << 160 | nonce << 172 | feeGwei << 204, to, amount)
    ///         and its `from`'s EIP-712 signature, as the node would take it, with `forceFee`
    ///         wei. Settlement must include it, executed or proven refused, in queue order once
    ///         it is forceDelay old; freezeDelay old and still out, anyone may freeze.
    /// @return index its place in the queue.
    function forceWithdraw(uint256 w1, uint256 w2, uint256 w3, bytes calldata signature)
        external
        payable
        returns (uint64 index)
    {
        if (frozen) revert RollupIsFrozen();
        if (msg.value < forceFee) revert ForceFeeTooLow(msg.value, forceFee);
        if (w1 >> 252 != 0 || w2 >> 160 != 0 || w3 > MAX_AMOUNT) revert BadForcedWithdrawal();
        if (signature.length != SIGNATURE_BYTES) revert ForcedNotSigned(address(uint160(w1)), address(0));
        bytes calldata words = msg.data[4:4 + WITHDRAW_WORDS * 32]; // w1, w2, w3 as sent
        uint256 id = withdrawCircuit;
        address from = address(uint160(w1));
        address signer = _recoverAt(_digestAt(opTypeHash[id], opRules[id] & FIELDS_MASK, words), signature);
        if (signer != from || signer == address(0)) revert ForcedNotSigned(from, signer);
        index = forcedCount;
        forced[index] = Forced(keccak256(words), uint64(block.timestamp));
        forcedCount = index + 1;
        emit WithdrawalForced(index, from, w1, w2, w3, signature);
    }

    /// The block's leading withdraw or refuse_withdraw ops whose words are the next queued
    /// Withdraws', in order, include them; then the next one left must be younger than
    /// forceDelay.
    function _includeForced(bytes calldata ops) private {
        uint256 next = forcedIncluded;
        uint256 count = forcedCount;
        uint256 off;
        uint256 opBytes = 33 + WITHDRAW_WORDS * 32 + PROOF_BYTES;
        while (next < count && off + opBytes <= ops.length) {
            uint256 id = uint8(ops[off]);
            if (id != withdrawCircuit && id != refuseCircuit) break;
            if (keccak256(ops[off + 33:off + 33 + WITHDRAW_WORDS * 32]) != forced[next].wordsHash) break;
            next++;
            off += opBytes;
        }
        if (next < count && forced[next].queuedAt + forceDelay <= block.timestamp) {
            revert ForcedOperationPending(next);
        }
        if (next != forcedIncluded) forcedIncluded = uint64(next);
    }

    /// @notice Freeze the rollup: the next queued Withdraw has waited freezeDelay unincluded.
    ///         Then nothing settles, and every account may exit (`exit`).
    function freeze() external {
        if (frozen) revert RollupIsFrozen();
        uint64 next = forcedIncluded;
        if (next >= forcedCount || forced[next].queuedAt + freezeDelay > block.timestamp) revert NotFreezable(next);
        frozen = true;
        emit RollupFrozen(next);
    }

    /// @notice After a freeze, pay an account its balance under the settled root, once: `op`
    ///         is the exit statement as an op (circuit id ‖ account ‖ balance ‖ proof, account
    ///         = address | index << 160), whose proof the batch check verifies against
    ///         [settledRoot, account, balance]. Anyone may send it; the account's address is paid.
    function exit(bytes calldata op) external {
        if (!frozen) revert NotFrozen();
        if (op.length != 33 + 32 + PROOF_BYTES || uint8(op[0]) != exitCircuit) revert NotAnExit();
        (, uint256 account,) = _verifyBlock(settledRoot, op);
        uint256 balance = uint256(bytes32(op[33:65]));
        uint256 index = account >> 160;
        if (exited[index]) revert AlreadyExited(index);
        if (balance == 0) revert NothingToExit();
        exited[index] = true;
        address to = address(uint160(account));
        token.transfer(to, balance);
        emit Exited(index, to, balance);
    }

    /// @notice After a freeze, pay an uncredited deposit back to its recipient's L1 address
    ///         (the same key as its ZK account), once.
    function refundDeposit(uint64 index) external {
        if (!frozen) revert NotFrozen();
        if (index < depositsCredited || index >= depositCount || refunded[index]) revert NotRefundable(index);
        refunded[index] = true;
        DepositRecord memory record = deposits[index];
        token.transfer(record.to, record.amount);
        emit DepositRefunded(index, record.to, record.amount);
    }

    // -- deposits and withdrawals -----------------------------------------------------------

    /// @notice Lock `amount` of the sender's L1 ZKPoW (approved to this contract) as the next
    ///         deposit, for `to` on the ZK chain, which credits the deposits in order.
    /// @return index the deposit's number.
    function deposit(address to, uint256 amount) external returns (uint64 index) {
        if (frozen) revert RollupIsFrozen();
        if (to == address(0) || amount == 0 || amount > MAX_AMOUNT) revert InvalidDeposit(to, amount);
        index = depositCount;
        depositCount = index + 1;
        deposits[index] = DepositRecord(to, uint96(amount), uint64(block.number));
        token.transferFrom(msg.sender, address(this), amount);
        emit Deposited(index, to, amount);
    }

    /// @notice Pay withdrawal `position` of settled block `height`: `amount` to `to`, once.
    ///         Anyone may call it; the payment goes to `to` whoever calls.
    /// @param proof the leaf's siblings from the bottom of the tree up (chain/l1/withdrawals.py).
    function claimWithdrawal(uint64 height, uint256 position, address to, uint256 amount, bytes32[] calldata proof)
        external
    {
        if (!isWithdrawalIncluded(height, position, to, amount, proof)) revert InvalidWithdrawalProof();
        uint256 bit = 1 << (position & 0xff);
        uint256 bits = claimedBits[height][position >> 8];
        if (bits & bit != 0) revert WithdrawalAlreadyClaimed(height, position);
        claimedBits[height][position >> 8] = bits | bit;
        token.transfer(to, amount);
        emit WithdrawalClaimed(height, position, to, amount);
    }

    /// @notice Whether the withdrawal is under the withdrawals root of `height` by `proof`.
    /// @dev The position's bits pick the sides, so it must fit the proof's depth: a position
    ///      with more bits would name the same leaf twice (the leaf holds the position anyway).
    function isWithdrawalIncluded(uint64 height, uint256 position, address to, uint256 amount, bytes32[] calldata proof)
        public
        view
        returns (bool)
    {
        bytes32 root = withdrawalRoot[height];
        if (root == bytes32(0) || position >> proof.length != 0) return false;
        bytes32 node = keccak256(abi.encode(height, position, to, amount));
        for (uint256 level = 0; level < proof.length; level++) {
            node = (position >> level) & 1 == 0
                ? keccak256(abi.encodePacked(node, proof[level]))
                : keccak256(abi.encodePacked(proof[level], node));
        }
        return node == root;
    }

    function isWithdrawalClaimed(uint64 height, uint256 position) external view returns (bool) {
        return claimedBits[height][position >> 8] & (1 << (position & 0xff)) != 0;
    }

    /// @notice The withdrawals root of `leaves` (the same code as settlement's): zero for
    ///         none, the leaf for one, else the tree padded with zero leaves to a power of two.
    function computeWithdrawalsRoot(bytes32[] calldata leaves) external pure returns (bytes32) {
        bytes32[] memory copy = leaves;
        uint256 start;
        assembly {
            start := add(copy, 0x20)
        }
        return _merkleRoot(start, leaves.length);
    }

    /// The bridge ops of a block being settled: each deposit op must credit the next
    /// deposit, and the withdraw ops' leaves make the block's withdrawals root.
    function _settleBridgeOps(uint256 m, bytes calldata ops, uint64 height) private {
        uint256 leaves;
        assembly {
            leaves := mload(0x40)
            mstore(m, height) // the leaves' first word
        }
        (uint256 next, uint256 count, uint256 faultOp) = _scanBridgeOps(m, ops, depositsCredited);
        if (faultOp != 0) revert DepositMismatch(faultOp - 1, uint64(next));
        depositsCredited = uint64(next);
        if (count != 0) {
            bytes32 root = _merkleRoot(leaves, count);
            withdrawalRoot[height] = root;
            emit WithdrawalsSettled(height, root, count);
        }
    }

    /// The second pass over a block's ops (their shape is checked already). A deposit op's
    /// index must be `next` (then next + 1) and its recipient and amount the recorded ones; a
    /// withdraw op's leaf, keccak256 of the scratch words at m (the height, set by the caller,
    /// then position, to, amount), goes to a list at the free memory pointer. Returns the next
    /// uncredited deposit, the leaf count, and 1 + the index of a deposit op that does not
    /// match (0 if none; the scan stops there).
    function _scanBridgeOps(uint256 m, bytes calldata ops, uint256 next)
        private
        view
        returns (uint256, uint256 count, uint256 faultOp)
    {
        uint256 ids = (uint256(withdrawCircuit) << 8) | depositCircuit;
        assembly {
            // Whether the deposit op with words at `w` credits deposit `index`: recorded as
            // to (low 160 bits) | amount << 160, and to is never zero for a deposit made.
            function isCredit(w, index, depositsSlot) -> ok {
                let word := calldataload(w)
                mstore(0x00, index)
                mstore(0x20, depositsSlot)
                let record := sload(keccak256(0x00, 0x40))
                let to := and(record, ADDRESS_MASK)
                ok := and(
                    and(eq(and(word, DEPOSIT_INDEX_MASK), index), iszero(iszero(to))),
                    and(eq(and(shr(64, word), ADDRESS_MASK), to), eq(calldataload(add(w, 0x20)), shr(160, record)))
                )
            }

            // The ops from `off` to `end`; `ids` is withdrawId << 8 | depositId.
            function scan(mem, off, end, ids_, index, slot) -> nextIndex, n, fault {
                for { let j := 0 } lt(off, end) { j := add(j, 1) } {
                    let id := byte(0, calldataload(off))
                    let words := add(off, 33)
                    if eq(id, and(ids_, 0xff)) {
                        if iszero(isCredit(words, index, slot)) {
                            fault := add(j, 1)
                            break
                        }
                        index := add(index, 1)
                    }
                    if eq(id, shr(8, ids_)) {
                        mstore(add(mem, 0x20), n)
                        calldatacopy(add(mem, 0x40), add(words, 0x20), 0x40)
                        mstore(add(mload(0x40), shl(5, n)), keccak256(mem, 0x80))
                        n := add(n, 1)
                    }
                    off := add(add(words, shl(5, byte(0, mload(add(add(mem, M_HEADER), id))))), PROOF_BYTES)
                }
                nextIndex := index
            }

            next, count, faultOp := scan(m, ops.offset, add(ops.offset, ops.length), ids, next, deposits.slot)
            mstore(0x40, add(mload(0x40), shl(5, count)))
        }
        return (next, count, faultOp);
    }

    /// The root over the `count` leaves at `leaves`, the last thing in memory: padded with
    /// zero leaves to a power of two (written after them), hashed pairwise level by level in
    /// place. Zero for no leaves; the leaf itself for one.
    function _merkleRoot(uint256 leaves, uint256 count) private pure returns (bytes32 root) {
        if (count == 0) return bytes32(0);
        uint256 size = 1;
        while (size < count) size <<= 1;
        assembly {
            // Zero the padding (calldata past its end reads as zeros), and allocate it.
            calldatacopy(add(leaves, shl(5, count)), calldatasize(), shl(5, sub(size, count)))
            mstore(0x40, add(leaves, shl(5, size)))
            for {} gt(size, 1) { size := shr(1, size) } {
                for { let i := 0 } lt(i, shr(1, size)) { i := add(i, 1) } {
                    mstore(add(leaves, shl(5, i)), keccak256(add(leaves, shl(6, i)), 0x40))
                }
            }
            root := mload(leaves)
        }
    }

    // -- slots --------------------------------------------------------------------------------

    /// @notice Add `agent` to the schedule (owner only). The schedule is recomputed over the
    ///         new registry at once: later slots may change hands.
    function registerAgent(address agent) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _registerAgent(agent);
    }

    function agentCount() external view returns (uint256) {
        return agents.length;
    }

    /// @notice The agent whose slot holds L1 block `blockNumber` (zero with no agents).
    function slotAgent(uint256 blockNumber) public view returns (address) {
        uint256 count = agents.length;
        if (count == 0 || blockNumber < scheduleStart) return address(0);
        return agents[((blockNumber - scheduleStart) / slotBlocks) % count];
    }

    /// @notice Whether `sender` may submit in L1 block `blockNumber`: in its own slot, or by
    ///         anyone once more than graceBlocks blocks have passed since the last settlement.
    function maySubmit(address sender, uint256 blockNumber) public view returns (bool) {
        return blockNumber > settledAtBlock + graceBlocks || sender == slotAgent(blockNumber);
    }

    function _registerAgent(address agent) private {
        if (agent == address(0) || isAgent[agent]) revert InvalidAgent(agent);
        isAgent[agent] = true;
        agents.push(agent);
        emit AgentRegistered(agent, agents.length - 1);
    }

    /// @notice Circuit `id`'s key: its word count k, its δ group (the lowest id with the same
    ///         δ), and where its δ ‖ IC[] start in keyData's code.
    function circuitKey(uint256 id) external view returns (uint256 words, uint256 deltaGroup, uint256 offset) {
        if (id >= circuitCount) revert UnknownCircuit(0, id);
        bytes memory header = new bytes(HEADER_BYTES_PER_CIRCUIT * circuitCount);
        address data = keyData;
        assembly {
            extcodecopy(data, add(header, 0x20), 1, mload(header))
        }
        uint256 count = circuitCount;
        words = uint8(header[id]);
        deltaGroup = uint8(header[count + id]);
        offset = uint16(bytes2(abi.encodePacked(header[2 * count + 2 * id], header[2 * count + 2 * id + 1])));
    }

    // -- the batch check ------------------------------------------------------------------

    /// The block's last post-root once every proof checks out, and keccak256(ops); and the
    /// batch memory's base, where the block's bitmap of circuits (M_SEEN) and the key header
    /// stay for the bridge pass.
    function _verifyBlock(uint256 preRoot, bytes calldata ops) private view returns (uint256 m, uint256, bytes32) {
        m = _allocate(ops.length);
        bytes32 opsHash;
        assembly {
            // Hashed where the pairs will go: the pairing input is written after this.
            let buffer := mload(add(m, M_PAIRS))
            calldatacopy(buffer, ops.offset, ops.length)
            opsHash := keccak256(buffer, ops.length)
        }
        uint256 seed = uint256(keccak256(abi.encode(preRoot, opsHash)));
        (uint256 n, uint256 postRoot) = _accumulateOps(m, ops, preRoot, seed);
        uint256 fault = _load(m, M_FAULT);
        if (fault == FAULT_UNKNOWN_CIRCUIT) revert UnknownCircuit(n, _load(m, M_FAULT_ARG));
        if (fault == FAULT_TRUNCATED) revert TruncatedOps(n);
        if (fault == FAULT_INPUT) revert InputNotInField(n, _load(m, M_FAULT_ARG));
        uint256 groups = _foldKeys(m);
        uint256 pairCount = _appendFixedPairs(m, n, groups);
        if (_load(m, M_OK) != 1 || !_checkPairing(_load(m, M_PAIRS), pairCount)) revert InvalidProofBatch();
        return (m, postRoot, opsHash);
    }

    /// Lays out the batch memory from the free memory pointer (layout at M_*), zeroed, with the
    /// key header copied in; returns its base.
    function _allocate(uint256 opsBytes) private view returns (uint256 m) {
        uint256 count = circuitCount;
        uint256 stride = (2 + maxIcPoints) * 32; // C sum (2 words), then maxIcPoints scalars
        uint256 headerBytes = (HEADER_BYTES_PER_CIRCUIT * count + 31) / 32 * 32;
        uint256 stateBytes = count * stride;
        uint256 groupBytes = count * PAIR_BYTES;
        uint256 keyBytes = G2_BYTES + maxIcPoints * G1_BYTES;
        // At least OP_FIXED_BYTES an op; and the pairs area must hold the ops while they are hashed.
        uint256 pairBytes = (opsBytes / OP_FIXED_BYTES + 2 + count) * PAIR_BYTES;
        if (pairBytes < opsBytes) pairBytes = opsBytes;
        address data = keyData;
        assembly {
            m := mload(0x40)
            let state := add(add(m, M_HEADER), headerBytes)
            let groups := add(state, stateBytes)
            let key := add(groups, groupBytes)
            let pairs := add(key, keyBytes)
            // Zero everything before the key (calldata past its end reads as zeros).
            calldatacopy(m, calldatasize(), sub(key, m))
            mstore(0x40, add(pairs, pairBytes))
            mstore(add(m, M_OK), 1)
            mstore(add(m, M_STATE), state)
            mstore(add(m, M_STRIDE), stride)
            mstore(add(m, M_GROUPS), groups)
            mstore(add(m, M_KEY), key)
            mstore(add(m, M_PAIRS), pairs)
            mstore(add(m, M_COUNT), count)
            extcodecopy(data, add(m, M_HEADER), 1, mul(HEADER_BYTES_PER_CIRCUIT, count))
        }
    }

    /// One pass over the operations: for op j with coefficient r_j, its pair (r_j·A_j, B_j)
    /// goes into the pairing input, and r_j·C_j, r_j and r_j·x_{j,i} into its circuit's sums.
    /// Returns the op count (the faulty op's index on a fault) and the last post-root.
    /// @dev The hot loop of settlement, so written for gas: one flat Yul function, R kept on
    ///      the stack (the optimizer would copy a repeated 32-byte constant out of the code).
    function _accumulateOps(uint256 m, bytes calldata ops, uint256 preRoot, uint256 seed)
        private
        view
        returns (uint256 n, uint256 postRoot)
    {
        assembly {
            function fault(mem, kind, arg) {
                mstore(add(mem, M_FAULT), kind)
                mstore(add(mem, M_FAULT_ARG), arg)
            }

            // Ops from `off` to `end`, the first from `pre`; returns their count and the last
            // post-root (at a fault: the faulty op's index, and no root).
            function addOps(mem, off, end, pre, q) -> j, post {
                let pair := mload(add(mem, M_PAIRS))
                let seen := 0
                for {} lt(off, end) {} {
                    let state
                    let inputsEnd
                    {
                        let id := byte(0, calldataload(off))
                        if iszero(lt(id, mload(add(mem, M_COUNT)))) {
                            fault(mem, FAULT_UNKNOWN_CIRCUIT, id)
                            leave
                        }
                        inputsEnd := add(add(off, 33), shl(5, byte(0, mload(add(add(mem, M_HEADER), id)))))
                        if gt(add(inputsEnd, PROOF_BYTES), end) {
                            fault(mem, FAULT_TRUNCATED, 0)
                            leave
                        }
                        state := add(mload(add(mem, M_STATE)), mul(id, mload(add(mem, M_STRIDE))))
                        seen := or(seen, shl(id, 1))
                    }
                    // r_0 = 1 (one coefficient may be fixed); r_j = keccak256(seed ‖ j) mod R,
                    // the seed waiting at 0x00.
                    let r := 1
                    if j {
                        mstore(0x20, j)
                        r := mod(keccak256(0x00, 0x40), q)
                    }
                    {
                        // The scalar sums after the C sum: Σ r, Σ r·pre, Σ r·post, Σ r·w1, ...
                        let sum := add(state, 0x40)
                        mstore(sum, addmod(mload(sum), r, q))
                        sum := add(sum, 0x20)
                        mstore(sum, addmod(mload(sum), mulmod(r, pre, q), q))
                        for { let input := add(off, 1) } lt(input, inputsEnd) { input := add(input, 0x20) } {
                            let x := calldataload(input)
                            if iszero(lt(x, q)) {
                                fault(mem, FAULT_INPUT, add(shr(5, sub(input, off)), 1))
                                leave
                            }
                            sum := add(sum, 0x20)
                            mstore(sum, addmod(mload(sum), mulmod(r, x, q), q))
                        }
                    }
                    switch j
                    case 0 {
                        // r_0 = 1: (A, B) as they are; C starts its circuit's sum, still zero.
                        calldatacopy(pair, inputsEnd, 0xc0)
                        calldatacopy(state, add(inputsEnd, 0xc0), G1_BYTES)
                    }
                    default {
                        // scratch: [sum (G1), point (G1), r]: r·A into the pair, then B beside
                        // it; r·C, then the circuit's C sum + r·C.
                        calldatacopy(add(mem, 0x40), inputsEnd, G1_BYTES)
                        mstore(add(mem, 0x80), r)
                        if iszero(staticcall(EC_MUL_GAS, EC_MUL, add(mem, 0x40), 0x60, pair, 0x40)) {
                            mstore(add(mem, M_OK), 0)
                        }
                        calldatacopy(add(pair, 0x40), add(inputsEnd, 0x40), G2_BYTES)
                        calldatacopy(add(mem, 0x40), add(inputsEnd, 0xc0), G1_BYTES)
                        if iszero(staticcall(EC_MUL_GAS, EC_MUL, add(mem, 0x40), 0x60, add(mem, 0x40), 0x40)) {
                            mstore(add(mem, M_OK), 0)
                        }
                        mcopy(mem, state, G1_BYTES)
                        if iszero(staticcall(EC_ADD_GAS, EC_ADD, mem, 0x80, state, 0x40)) {
                            mstore(add(mem, M_OK), 0)
                        }
                    }
                    pre := calldataload(add(off, 1))
                    off := add(inputsEnd, PROOF_BYTES)
                    pair := add(pair, PAIR_BYTES)
                    j := add(j, 1)
                }
                mstore(add(mem, M_SEEN), seen)
                post := pre
            }

            mstore(0x00, seed)
            n, postRoot := addOps(m, ops.offset, add(ops.offset, ops.length), preRoot, R)
        }
    }

    /// Per circuit in the block: Σ_j r_j·L_j = (Σ r_j)·IC_0 + Σ_i (Σ_j r_j·x_{j,i})·IC_i into
    /// the L sum, Σ r_j into the r sum, and its C sum and δ into its δ group's pair. Returns a
    /// bitmap of the δ groups seen.
    function _foldKeys(uint256 m) private view returns (uint256 groups) {
        address data = keyData;
        assembly {
            function fail(mem, ok) {
                if iszero(ok) { mstore(add(mem, M_OK), 0) }
            }

            // Circuit `id`'s C sum and δ into its group's pair; returns the group id.
            function foldGroup(mem, id, state, key) -> group {
                let count := mload(add(mem, M_COUNT))
                group := byte(0, mload(add(add(mem, M_HEADER), add(count, id))))
                let pair := add(mload(add(mem, M_GROUPS)), mul(group, PAIR_BYTES))
                mcopy(mem, pair, G1_BYTES)
                mcopy(add(mem, 0x40), state, G1_BYTES)
                fail(mem, staticcall(EC_ADD_GAS, EC_ADD, mem, 0x80, pair, 0x40))
                mcopy(add(pair, G1_BYTES), key, G2_BYTES)
            }

            // The scalars Σ r, Σ r·x_1, ... sit in order after the C sum, as the IC points
            // do after δ in the key.
            function foldInputs(mem, state, key, icPoints) {
                let lSum := add(mem, M_L_SUM)
                let scalars := add(state, 0x40)
                mstore(add(mem, M_R_SUM), addmod(mload(add(mem, M_R_SUM)), mload(scalars), R))
                let point := add(key, G2_BYTES)
                for { let i := 0 } lt(i, icPoints) { i := add(i, 1) } {
                    mcopy(add(mem, 0x40), add(point, shl(6, i)), G1_BYTES)
                    mstore(add(mem, 0x80), mload(add(scalars, shl(5, i))))
                    fail(mem, staticcall(EC_MUL_GAS, EC_MUL, add(mem, 0x40), 0x60, add(mem, 0x40), 0x40))
                    mcopy(mem, lSum, G1_BYTES)
                    fail(mem, staticcall(EC_ADD_GAS, EC_ADD, mem, 0x80, lSum, 0x40))
                }
            }

            let seen := mload(add(m, M_SEEN))
            let count := mload(add(m, M_COUNT))
            let key := mload(add(m, M_KEY))
            for { let id := 0 } seen { id := add(id, 1) } {
                if and(seen, 1) {
                    let state := add(mload(add(m, M_STATE)), mul(id, mload(add(m, M_STRIDE))))
                    let icPoints := add(byte(0, mload(add(add(m, M_HEADER), id))), MIN_IC_POINTS)
                    let offset := shr(240, mload(add(add(m, M_HEADER), add(shl(1, count), shl(1, id)))))
                    extcodecopy(data, key, offset, add(G2_BYTES, shl(6, icPoints)))
                    groups := or(groups, shl(foldGroup(m, id, state, key), 1))
                    foldInputs(m, state, key, icPoints)
                }
                seen := shr(1, seen)
            }
        }
    }

    /// After the n proofs' pairs: (-(Σ r_j)·α, β), (-Σ r_j·L_j, γ), and (-Σ r_j·C_j, δ_g) for
    /// each δ group g in `groups`. Returns the number of pairs.
    function _appendFixedPairs(uint256 m, uint256 n, uint256 groups) private view returns (uint256 pairCount) {
        uint256 pair = _load(m, M_PAIRS) + n * PAIR_BYTES;
        uint256[6] memory alphaBeta = [alphaX, alphaY, betaX1, betaX0, betaY1, betaY0];
        uint256[4] memory gamma = [gammaX1, gammaX0, gammaY1, gammaY0];
        assembly {
            mcopy(pair, alphaBeta, PAIR_BYTES)
            mstore(add(pair, 0x40), mload(add(m, M_R_SUM)))
            // α is on the curve, so the call cannot fail; β goes over the scalar after it.
            pop(staticcall(EC_MUL_GAS, EC_MUL, pair, 0x60, pair, 0x40))
            mcopy(add(pair, 0x40), add(alphaBeta, 0x40), G2_BYTES)
            let gammaPair := add(pair, PAIR_BYTES)
            mcopy(gammaPair, add(m, M_L_SUM), G1_BYTES)
            mcopy(add(gammaPair, 0x40), gamma, G2_BYTES)
        }
        _negate(pair);
        _negate(pair + PAIR_BYTES);
        pair += 2 * PAIR_BYTES;
        pairCount = n + 2;
        uint256 groupPair = _load(m, M_GROUPS);
        for (; groups != 0; groups >>= 1) {
            if (groups & 1 == 1) {
                assembly {
                    mcopy(pair, groupPair, PAIR_BYTES)
                }
                _negate(pair);
                pair += PAIR_BYTES;
                pairCount++;
            }
            groupPair += PAIR_BYTES;
        }
    }

    /// The G1 point at `point` becomes its negation (the point at infinity, (0, 0), stays).
    function _negate(uint256 point) private pure {
        assembly {
            let y := mload(add(point, 0x20))
            if y { mstore(add(point, 0x20), sub(P, y)) }
        }
    }

    function _checkPairing(uint256 pairs, uint256 pairCount) private view returns (bool valid) {
        uint256 gasPrice = PAIRING_BASE_GAS + PAIRING_PER_PAIR_GAS * pairCount;
        assembly {
            let ok := staticcall(gasPrice, EC_PAIRING, pairs, mul(pairCount, PAIR_BYTES), 0x00, 0x20)
            valid := and(ok, eq(mload(0x00), 1))
        }
    }

    function _load(uint256 m, uint256 slot) private pure returns (uint256 value) {
        assembly {
            value := mload(add(m, slot))
        }
    }

    // -- keys, at construction ------------------------------------------------------------

    /// The number of IC points of `vk`, once its shape is right and it shares `first`'s α, β, γ.
    function _checkKey(bytes memory first, bytes memory vk, uint256 id) private pure returns (uint256) {
        uint256 length = vk.length;
        if (length < VK_HEADER_BYTES + MIN_IC_POINTS * G1_BYTES || (length - VK_HEADER_BYTES) % G1_BYTES != 0) {
            revert MalformedVerificationKey(id);
        }
        uint256 icPoints = (length - VK_HEADER_BYTES) / G1_BYTES;
        if (icPoints - MIN_IC_POINTS > 0xff) revert MalformedVerificationKey(id);
        if (_hashRange(vk, 0, VK_SHARED_BYTES) != _hashRange(first, 0, VK_SHARED_BYTES)) {
            revert VerificationKeyNotShared(id);
        }
        return icPoints;
    }

    /// The bridge circuits are two, each with a key of its word count (DEPOSIT_WORDS,
    /// WITHDRAW_WORDS): the bridge pass reads their words at fixed places.
    function _checkBridgeCircuits(bytes[] memory vks, uint256 depositId, uint256 withdrawId) private pure {
        if (
            depositId == withdrawId || depositId >= vks.length || withdrawId >= vks.length
                || _wordCount(vks[depositId]) != DEPOSIT_WORDS || _wordCount(vks[withdrawId]) != WITHDRAW_WORDS
        ) revert BadBridgeCircuits(depositId, withdrawId);
    }

    /// The words of a key already checked by _checkKey: its public inputs less the two roots.
    function _wordCount(bytes memory vk) private pure returns (uint256) {
        return (vk.length - VK_HEADER_BYTES) / G1_BYTES - MIN_IC_POINTS;
    }

    /// words[N] ‖ deltaGroup[N] ‖ keyOffset[N] ‖ each δ ‖ IC[]; offsets count the leading 0x00.
    function _encodeKeyData(bytes[] memory vks) private pure returns (bytes memory) {
        uint256 count = vks.length;
        bytes memory header = new bytes(HEADER_BYTES_PER_CIRCUIT * count);
        bytes memory bodies;
        for (uint256 id = 0; id < count; id++) {
            bytes memory vk = vks[id];
            uint256 offset = 1 + header.length + bodies.length;
            header[id] = bytes1(uint8((vk.length - VK_HEADER_BYTES) / G1_BYTES - MIN_IC_POINTS));
            header[count + id] = bytes1(uint8(_findGroup(vks, id)));
            header[2 * count + 2 * id] = bytes1(uint8(offset >> 8));
            header[2 * count + 2 * id + 1] = bytes1(uint8(offset));
            bodies = bytes.concat(bodies, _slice(vk, VK_SHARED_BYTES));
        }
        bytes memory data = bytes.concat(header, bodies);
        if (data.length > MAX_KEY_DATA_BYTES) revert BadKeyCount(count);
        return data;
    }

    /// The lowest id whose δ is the same as key `id`'s (`id` itself if none before it).
    function _findGroup(bytes[] memory vks, uint256 id) private pure returns (uint256) {
        bytes32 delta = _hashRange(vks[id], VK_SHARED_BYTES, G2_BYTES);
        for (uint256 other = 0; other < id; other++) {
            if (_hashRange(vks[other], VK_SHARED_BYTES, G2_BYTES) == delta) return other;
        }
        return id;
    }

    /// A data contract whose code is 0x00 ‖ `data` (the leading STOP makes it inert if called).
    function _writeKeyData(bytes memory data) private returns (address created) {
        uint256 size = data.length + 1;
        // PUSH2 size, DUP1, PUSH1 12, PUSH1 0, CODECOPY, PUSH1 0, RETURN: the code after these
        // 12 bytes becomes the contract's.
        bytes memory init = abi.encodePacked(hex"61", uint16(size), hex"80600c6000396000f3", hex"00", data);
        assembly {
            created := create(0, add(init, 0x20), mload(init))
        }
        require(created != address(0), "key data contract not created");
    }

    function _slice(bytes memory data, uint256 start) private pure returns (bytes memory out) {
        out = new bytes(data.length - start);
        assembly {
            mcopy(add(out, 0x20), add(add(data, 0x20), start), mload(out))
        }
    }

    function _hashRange(bytes memory data, uint256 start, uint256 length) private pure returns (bytes32 digest) {
        assembly {
            digest := keccak256(add(add(data, 0x20), start), length)
        }
    }

    function _word(bytes memory data, uint256 index) private pure returns (uint256 value) {
        assembly {
            value := mload(add(add(data, 0x20), mul(index, 0x20)))
        }
    }
}

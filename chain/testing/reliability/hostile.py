"""Hostile JSON-RPC requests for the fuzz scenario (chain/testing/reliability/fuzz.py), and the
check of the node's answers to them.

`make_requests(chain, seed, count)` yields requests that are each invalid by construction,
whatever the node's state, so the only right answer to every one is a JSON-RPC error;
`check_answer` says whether an answer is that error: the right HTTP status, JSON, no result,
each id echoed, never -32603 (a handler that crashed). Both are pure: sending is fuzz.py's
business.

The kinds, and why each matters:

- wrong_type: one parameter of a real method (or one field of its object) given a JSON value
  of another type, falsy ones (0, false, "", [], {}) among them: a handler that trusts a
  type either crashes or, worse, answers, and one that tests a value's truth takes a falsy
  one for "not given".
- bad_hex: a hex parameter with an odd number of digits, a non-hex digit, no 0x, or what
  Python's int(x, 16) and bytes.fromhex take but hex is not (a sign, "_", whitespace, a
  second 0x, Unicode digits): the parsers of chain/rpc/params.py must refuse it before
  anything reads the state with it. A ZK operation's decimal numbers get Unicode digits
  ("²", which str.isdigit() passes and int() refuses).
- wrong_length: an address of 19 or 21 bytes, a hash of 31 or 33, a 64-byte signature: a
  key of the wrong size must not quietly name another account.
- out_of_range: a quantity above 2**256 - 1, a count that is negative or past SQLite's
  2**63 - 1, a ZK operation's field past its own width (a uint8 of 300) or a decimal of
  thousands of digits (past Python's int-conversion limit): a number that would wrap a word,
  overflow a SQLite integer or fail the EIP-712 encoding further down.
- arity: too few or too many parameters: an extra one dropped in silence hides a mistake.
- params_not_array: params an object, a string or a number: the node takes them by
  position only.
- unknown_method: near misses of real names, the other chain's methods, "__proto__": the
  method table must be a table, not something reachable by attribute lookup.
- envelope: jsonrpc "1.0" or missing, method not a string or missing, an id that is an
  object, an array or a boolean, the request not an object: answered -32600 (id null for a
  bad id) before any handler runs.
- not_json: truncated, invalid UTF-8, trailing bytes, single quotes, random bytes: -32700.
- garbage_batch: a batch of a few invalid requests: a list of errors, one per element, each
  with its element's id.
- empty_batch: `[]`: one error, id null.
- deep_nesting: thousands of levels of `[`: a recursive parser overflows the C stack and the
  process dies (chain/rpc/server.py, parse_json).
- huge_batch: more than RPC_MAX_BATCH elements: refused whole with one error, not run.
- huge_hex: a megabyte of hex digits as an address or a quantity: its parse must stay linear
  and its error message short.
- oversize_body: just over RPC_MAX_BODY_BYTES: HTTP 413 with a JSON-RPC error body, and the
  rest of the body never read.
- endless_call (fast chain): eth_call or eth_estimateGas of code that jumps back forever,
  with 2**64 - 1 gas, as creation code (revm: the gas cap ends it) or as an account's code in
  a state override (py-evm: the time limit ends it): an error, not a held block thread.

The large kinds and the endless call come once in RARE_PERIOD requests each; the rest are
drawn by COMMON_WEIGHTS, mostly parameter mutations spread over every method of the chain.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from chain.config import RPC_MAX_BATCH, RPC_MAX_BODY_BYTES
from chain.rpc.errors import INTERNAL_ERROR

RARE_PERIOD = 100  # requests: each rare kind comes once in every RARE_PERIOD
NESTING_MIN = 1_100  # levels of "[": just past orjson's limit of 1,024
NESTING_MAX = 5_000  # levels: deep enough to overflow a recursive parser's C stack
HUGE_HEX_DIGITS = 1_000_000  # hex digits (1 MB) in a huge_hex parameter
HUGE_BATCH_EXTRA_MAX = 100  # elements: a huge batch has 1 to this many over RPC_MAX_BATCH
OVERSIZE_EXTRA_MAX = 64 * 1024  # bytes: an oversize body is 1 to this many over the cap
SMALL_BODY_MAX = 64 * 1024  # bytes: every body is under this but those of BULKY_KINDS
GARBAGE_BATCH_MAX = 6  # elements in a garbage batch (1 to this many)
LONG_NAME_CHARS = 4_096  # characters in the longest unknown method name
RANDOM_BYTES_MAX = 512  # bytes of a random, not-JSON body
DEV_ACCOUNT = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # of "test test ... junk"
OVERSIZE_STATUS = 413  # HTTP: Request Entity Too Large
# Creation code JUMPDEST PUSH1 0 JUMP: a loop that ends only when the gas does.
ENDLESS_CALL = {"data": "0x5b600056", "gas": "0xffffffffffffffff"}
LOOP_ACCOUNT = "0x" + "0a" * 20  # where a state override puts the loop

PARAM_KINDS = (
    "wrong_type",
    "bad_hex",
    "wrong_length",
    "out_of_range",
    "arity",
    "params_not_array",
)
# Relative weights of the kinds that are not rare; the parameter mutations take most.
COMMON_WEIGHTS = {
    "wrong_type": 22,
    "bad_hex": 16,
    "wrong_length": 9,
    "out_of_range": 8,
    "arity": 12,
    "params_not_array": 6,
    "unknown_method": 6,
    "envelope": 7,
    "not_json": 6,
    "garbage_batch": 6,
    "empty_batch": 2,
}
RARE_KINDS = ("deep_nesting", "huge_batch", "huge_hex", "oversize_body", "endless_call")
BULKY_KINDS = ("huge_batch", "huge_hex", "oversize_body")  # bodies of SMALL_BODY_MAX and more
FAST_ONLY_KINDS = ("endless_call",)  # the ZK chain runs no EVM
CHAINS = ("fast", "zk")

RequestId: TypeAlias = int | str | None
Shape: TypeAlias = "str | dict[str, Shape] | tuple[Shape]"  # leaf kind, object, list of one
Path: TypeAlias = tuple[str | int, ...]
Maker: TypeAlias = Callable[[random.Random], Any]


@dataclass(frozen=True)
class HostileRequest:
    kind: str  # one of list_kinds(chain)
    body: bytes  # exactly what is POSTed
    ids: tuple[RequestId, ...]  # what the answer(s) must echo, in order; None: id null
    batch: bool  # a list of answers is expected, one per element


# -- what each method takes ------------------------------------------------------------------

# Leaf kinds of parameter (and of fields of object parameters).
ADDRESS = "address"  # 20 bytes of 0x-hex (chain/rpc/params.py parse_address)
# A dev node's first account (chain/fast/genesis.py, dev_keys): as `from`, a dev node reads
# the rest of the transaction (and refuses its one bad field) instead of refusing the sender.
SENDER = "sender"
HASH = "hash"  # 32 bytes of 0x-hex
SIGNATURE = "signature"  # 65 bytes of 0x-hex
QUANTITY = "quantity"  # a 0x-hex number up to 2**256 - 1
NUMBER = "number"  # a JSON integer or a quantity (anvil's dev methods)
COUNT = "count"  # a JSON integer from 0 to 2**63 - 1 (chain/rpc/params.py parse_count)
SEQ = "seq"  # a quantity the node looks up in SQLite: at most 2**63 - 1
BLOCK = "block"  # a block tag or number
BOOL = "bool"
DATA = "data"  # 0x-hex bytes of any length
FILTER_ID = "filter_id"  # a polling filter's id
# eth_uninstallFilter's id: any string that names no filter is answered false (as geth
# answers it), so only its type can be wrong.
UNINSTALL_ID = "uninstall_id"
LOG_ADDRESS = "log_address"  # a log filter's address: one, or a list ([] is any address)
TOPIC = "topic"  # a log filter's topic: a hash, or a list of them ([] and null: any)
OVERRIDES = "overrides"  # eth_call's state overrides
TRACER = "tracer"  # debug_trace*'s options
PERCENTILE = "percentile"  # one of eth_feeHistory's reward percentiles: a number in [0, 100]
OP_TYPE = "op_type"  # a ZK operation's type name (chain/zk/signing.py)
OP_ADDRESS = "op_address"  # a ZK operation's address field
# A ZK operation's number fields: a JSON integer, 0x-hex or decimal, of its uintN.
OP_UINT = "op_uint"  # uint256
OP_UINT8 = "op_uint8"
OP_UINT16 = "op_uint16"
OP_UINT32 = "op_uint32"
OP_UINT_BITS = {OP_UINT: 256, OP_UINT8: 8, OP_UINT16: 16, OP_UINT32: 32}
OBJECT = "object"  # the kind of an object node of a Shape
LIST = "list"  # the kind of a list node of a Shape


@dataclass(frozen=True)
class MethodSpec:
    required: int
    params: tuple[Shape, ...]


def takes(required: int, *params: Shape) -> MethodSpec:
    return MethodSpec(required, params)


NO_PARAMS = takes(0)
CALL: Shape = {"from": ADDRESS, "to": ADDRESS, "value": QUANTITY, "data": DATA, "gas": QUANTITY}
TX: Shape = {
    "from": SENDER,
    "to": ADDRESS,
    "value": QUANTITY,
    "data": DATA,
    "gas": QUANTITY,
    "nonce": QUANTITY,
    "maxFeePerGas": QUANTITY,
    "maxPriorityFeePerGas": QUANTITY,
}
FILTER: Shape = {
    "fromBlock": BLOCK,
    "toBlock": BLOCK,
    "address": LOG_ADDRESS,
    "topics": (TOPIC,),
}
SIMULATION: Shape = {"blockStateCalls": ({"calls": (CALL,)},)}
ZK_CALL: Shape = {"to": ADDRESS, "data": DATA}
# A Mint: its fields have the widths of every signed type's (uint8, uint32, uint256 and an
# address; the header's uint16 fromIndex too).
OPERATION: Shape = {
    "type": OP_TYPE,
    "collection": OP_UINT8,
    "to": OP_ADDRESS,
    "metadata": OP_UINT,
    "round": OP_UINT32,
    "fee": OP_UINT,
    "nonce": OP_UINT32,
    "fromIndex": OP_UINT16,
    "signature": SIGNATURE,
}
SUBMISSION: Shape = {"jobId": HASH, "proof": DATA, "signature": SIGNATURE, "prover": ADDRESS}

# chain/rpc/duet_api.py: served on both endpoints.
DUET_METHODS = {
    "duet_endpoints": NO_PARAMS,
    "duet_getEvidence": NO_PARAMS,
    "duet_heads": NO_PARAMS,
    "duet_getLedger": takes(1, COUNT, COUNT),
    "duet_getTransactionStatus": takes(1, HASH),
}
# chain/rpc/fast_api.py, filters.py, dev_accounts.py, dev_controls.py, dev_state.py.
FAST_METHODS = DUET_METHODS | {
    "web3_clientVersion": NO_PARAMS,
    "net_version": NO_PARAMS,
    "net_listening": NO_PARAMS,
    "net_peerCount": NO_PARAMS,
    "eth_chainId": NO_PARAMS,
    "eth_syncing": NO_PARAMS,
    "eth_blockNumber": NO_PARAMS,
    "eth_gasPrice": NO_PARAMS,
    "eth_maxPriorityFeePerGas": NO_PARAMS,
    "eth_blobBaseFee": NO_PARAMS,
    "eth_getBalance": takes(1, ADDRESS, BLOCK),
    "eth_getTransactionCount": takes(1, ADDRESS, BLOCK),
    "eth_getCode": takes(1, ADDRESS, BLOCK),
    "eth_getStorageAt": takes(2, ADDRESS, QUANTITY, BLOCK),
    "eth_call": takes(1, CALL, BLOCK, OVERRIDES),
    "eth_estimateGas": takes(1, CALL, BLOCK, OVERRIDES),
    "eth_createAccessList": takes(1, CALL, BLOCK),
    "debug_traceTransaction": takes(1, HASH, TRACER),
    "debug_traceCall": takes(1, CALL, BLOCK, TRACER),
    "eth_simulateV1": takes(1, SIMULATION, BLOCK),
    "eth_feeHistory": takes(2, QUANTITY, BLOCK, (PERCENTILE,)),
    "eth_sendRawTransaction": takes(1, DATA),
    "eth_getTransactionByHash": takes(1, HASH),
    "eth_getTransactionReceipt": takes(1, HASH),
    "eth_getBlockByNumber": takes(1, BLOCK, BOOL),
    "eth_getBlockByHash": takes(1, HASH, BOOL),
    "eth_getBlockTransactionCountByNumber": takes(1, BLOCK),
    "eth_getBlockTransactionCountByHash": takes(1, HASH),
    "eth_getTransactionByBlockNumberAndIndex": takes(2, BLOCK, QUANTITY),
    "eth_getTransactionByBlockHashAndIndex": takes(2, HASH, QUANTITY),
    "eth_getRawTransactionByHash": takes(1, HASH),
    "eth_getRawTransactionByBlockNumberAndIndex": takes(2, BLOCK, QUANTITY),
    "eth_getRawTransactionByBlockHashAndIndex": takes(2, HASH, QUANTITY),
    "eth_getBlockReceipts": takes(1, BLOCK),
    "eth_getLogs": takes(1, FILTER),
    "eth_newFilter": takes(1, FILTER),
    "eth_newBlockFilter": NO_PARAMS,
    "eth_newPendingTransactionFilter": takes(0, BOOL),
    "eth_getFilterChanges": takes(1, FILTER_ID),
    "eth_getFilterLogs": takes(1, FILTER_ID),
    "eth_uninstallFilter": takes(1, UNINSTALL_ID),
    "eth_accounts": NO_PARAMS,
    "eth_sendTransaction": takes(1, TX),
    "eth_signTransaction": takes(1, TX),
    "eth_sign": takes(2, SENDER, DATA),
    "anvil_impersonateAccount": takes(1, ADDRESS),
    "hardhat_impersonateAccount": takes(1, ADDRESS),
    "anvil_stopImpersonatingAccount": takes(1, ADDRESS),
    "hardhat_stopImpersonatingAccount": takes(1, ADDRESS),
    "anvil_autoImpersonateAccount": takes(1, BOOL),
    "evm_snapshot": NO_PARAMS,
    "anvil_snapshot": NO_PARAMS,
    "evm_revert": takes(1, QUANTITY),
    "anvil_revert": takes(1, QUANTITY),
    "evm_mine": takes(0, NUMBER),
    "anvil_mine": takes(0, NUMBER, NUMBER),
    "hardhat_mine": takes(0, NUMBER, NUMBER),
    "evm_increaseTime": takes(1, NUMBER),
    "anvil_increaseTime": takes(1, NUMBER),
    "evm_setNextBlockTimestamp": takes(1, NUMBER),
    "anvil_setNextBlockTimestamp": takes(1, NUMBER),
    "anvil_setBalance": takes(2, ADDRESS, NUMBER),
    "hardhat_setBalance": takes(2, ADDRESS, NUMBER),
    "anvil_setNonce": takes(2, ADDRESS, NUMBER),
    "hardhat_setNonce": takes(2, ADDRESS, NUMBER),
    "anvil_setCode": takes(2, ADDRESS, DATA),
    "hardhat_setCode": takes(2, ADDRESS, DATA),
    "anvil_setStorageAt": takes(3, ADDRESS, NUMBER, HASH),
    "hardhat_setStorageAt": takes(3, ADDRESS, NUMBER, HASH),
}
# chain/rpc/zk_api.py and market_api.py.
ZK_METHODS = DUET_METHODS | {
    "web3_clientVersion": NO_PARAMS,
    "net_version": NO_PARAMS,
    "eth_chainId": NO_PARAMS,
    "eth_syncing": NO_PARAMS,
    "eth_blockNumber": NO_PARAMS,
    "eth_getBlockByNumber": takes(1, BLOCK, BOOL),
    "eth_getBlockByHash": takes(1, HASH, BOOL),
    "eth_call": takes(1, ZK_CALL, BLOCK),
    "eth_getBalance": takes(1, ADDRESS, BLOCK),
    "eth_getTransactionCount": takes(1, ADDRESS, BLOCK),
    "duet_sendOperation": takes(1, OPERATION),
    "duet_getSigningDomain": NO_PARAMS,
    "duet_getOperation": takes(1, HASH),
    "duet_getProofStatus": takes(1, HASH),
    "duet_getAccount": takes(1, ADDRESS),
    "duet_getStake": takes(1, ADDRESS),
    "duet_getToken": takes(2, QUANTITY, QUANTITY),
    "duet_getListings": NO_PARAMS,
    "duet_getTotals": NO_PARAMS,
    "duet_getFastMessage": takes(1, SEQ),
    "duet_getTokenPaths": takes(2, QUANTITY, QUANTITY),
    "duet_getSettlementHeights": takes(1, COUNT, COUNT),
    "duet_getSettlementBlock": takes(1, COUNT),
    "duet_getSettlementStatus": NO_PARAMS,
    "duet_submitProof": takes(1, SUBMISSION),
    "duet_getProverJobs": takes(1, ADDRESS),
    "duet_getProverMarket": NO_PARAMS,
    "duet_getMarketBlock": takes(1, COUNT),
    "duet_getCircuits": NO_PARAMS,
}
METHODS = {"fast": FAST_METHODS, "zk": ZK_METHODS}
METHODS_OF_ANY = ZK_METHODS | FAST_METHODS


# -- values: valid ones, and one maker per kind of mutation ----------------------------------


def compute_hex(rng: random.Random, size: int) -> str:
    return "0x" + rng.randbytes(size).hex()


VALID: dict[str, Maker] = {
    ADDRESS: lambda rng: compute_hex(rng, 20),
    SENDER: lambda rng: DEV_ACCOUNT,
    HASH: lambda rng: compute_hex(rng, 32),
    SIGNATURE: lambda rng: compute_hex(rng, 65),
    QUANTITY: lambda rng: hex(rng.randrange(2**16)),
    NUMBER: lambda rng: 1,
    COUNT: lambda rng: rng.randrange(100),
    SEQ: lambda rng: hex(rng.randrange(2**16)),
    # "latest": a block that exists, so that a handler reads the parameters after it.
    BLOCK: lambda rng: "latest",
    BOOL: lambda rng: False,
    DATA: lambda rng: compute_hex(rng, rng.randrange(1, 8)),
    FILTER_ID: lambda rng: compute_hex(rng, 16),
    UNINSTALL_ID: lambda rng: compute_hex(rng, 16),
    LOG_ADDRESS: lambda rng: compute_hex(rng, 20),
    TOPIC: lambda rng: compute_hex(rng, 32),
    OVERRIDES: lambda rng: {},
    TRACER: lambda rng: {"tracer": "callTracer"},
    PERCENTILE: lambda rng: 50,
    OP_TYPE: lambda rng: "Mint",
    OP_ADDRESS: lambda rng: compute_hex(rng, 20),
    OP_UINT: lambda rng: hex(rng.randrange(1, 2**16)),
    OP_UINT8: lambda rng: hex(rng.randrange(1, 2**4)),
    OP_UINT16: lambda rng: hex(rng.randrange(1, 2**16)),
    OP_UINT32: lambda rng: hex(rng.randrange(1, 2**16)),
}

WRONG_TYPE_VALUES: dict[str, Maker] = {
    "int": lambda rng: rng.randrange(1, 2**31),
    "true": lambda rng: True,
    "list": lambda rng: [rng.randrange(1, 2**31)],  # never a list of valid values
    "object": lambda rng: {"value": rng.randrange(1, 2**31)},
    "float": lambda rng: rng.randrange(1, 2**20) + 0.5,
    "string": lambda rng: rng.choice(("abc", "true", "0x1", "[]", "{}")),
    # Falsy: a handler that tests a value's truth takes each for "not given".
    "zero": lambda rng: 0,
    "false": lambda rng: False,
    "empty_string": lambda rng: "",
    "empty_list": lambda rng: [],
    "empty_object": lambda rng: {},
}


def make_wrong_type(*valid: str) -> Maker:
    """A value of each kind of WRONG_TYPE_VALUES but those named, which the spot takes."""
    names = [name for name in WRONG_TYPE_VALUES if name not in valid]
    return lambda rng: WRONG_TYPE_VALUES[rng.choice(names)](rng)


HEX_WRONG_TYPE = make_wrong_type("string")
# A list is the filter's own type for these: [] is any address or any topic.
FILTER_WRONG_TYPE = make_wrong_type("list", "empty_list")
# {} is valid there: no overrides, a call with nothing set.
CONTAINER_WRONG_TYPE = make_wrong_type("object", "empty_object")
WRONG_TYPE: dict[str, Maker] = {
    ADDRESS: HEX_WRONG_TYPE,
    SENDER: HEX_WRONG_TYPE,
    HASH: HEX_WRONG_TYPE,
    SIGNATURE: HEX_WRONG_TYPE,
    QUANTITY: HEX_WRONG_TYPE,
    SEQ: HEX_WRONG_TYPE,
    BLOCK: HEX_WRONG_TYPE,
    DATA: HEX_WRONG_TYPE,
    FILTER_ID: HEX_WRONG_TYPE,
    # "" or "abc" names no filter, and uninstalling it answers false.
    UNINSTALL_ID: make_wrong_type("string", "empty_string"),
    LOG_ADDRESS: FILTER_WRONG_TYPE,
    TOPIC: FILTER_WRONG_TYPE,
    OP_ADDRESS: HEX_WRONG_TYPE,
    # evm_mine takes {"blocks": n} and mines with defaults; "0x1" and 0 are numbers.
    NUMBER: make_wrong_type("int", "zero", "string", "object", "empty_object"),
    COUNT: make_wrong_type("int", "zero"),
    **{kind: make_wrong_type("int", "zero", "string") for kind in OP_UINT_BITS},
    BOOL: make_wrong_type("true", "false"),
    OP_TYPE: make_wrong_type("string"),
    OVERRIDES: CONTAINER_WRONG_TYPE,
    TRACER: CONTAINER_WRONG_TYPE,
    OBJECT: CONTAINER_WRONG_TYPE,
    PERCENTILE: make_wrong_type("int", "zero", "float"),
    # [] is valid there: no topics, no percentiles, a block without calls.
    LIST: make_wrong_type("list", "empty_list"),
}

NON_HEX_CHARS = "gGzZ#%?!~éß"
WHITESPACE = (" ", "  ", "\t", "\n", "\r\n", "\u00a0")
# Digits int() reads as 0-9 in any base: Arabic-Indic, fullwidth, Devanagari.
UNICODE_DIGITS = ("٠١٢٣٤٥٦٧٨٩", "０１２３４５６７８９", "०१२३४५६७८९")
SUPERSCRIPT_DIGITS = "⁰¹²³⁴⁵⁶⁷⁸⁹"  # str.isdigit() passes them; int() does not
HexEdit: TypeAlias = Callable[[str, random.Random], str]


def edit_odd(valid: str, rng: random.Random) -> str:
    return valid[:-1] if rng.random() < 0.5 else valid + rng.choice("0123456789abcdef")


def edit_non_hex(valid: str, rng: random.Random) -> str:
    at = rng.randrange(2, len(valid))
    return valid[:at] + rng.choice(NON_HEX_CHARS) + valid[at + 1 :]


def edit_unprefixed(valid: str, rng: random.Random) -> str:
    return valid[2:]


def edit_empty(valid: str, rng: random.Random) -> str:
    return "0x"


def edit_spaced_bytes(valid: str, rng: random.Random) -> str:
    """Whitespace between two bytes, or before or after them: bytes.fromhex skips it."""
    at = 2 + 2 * rng.randrange((len(valid) - 2) // 2 + 1)
    return valid[:at] + rng.choice(("  ", "\t\n", "\r\n", " \t")) + valid[at:]


def edit_signed(valid: str, rng: random.Random) -> str:
    return "0x" + rng.choice("-+") + valid[2:]


def edit_spaced_digits(valid: str, rng: random.Random) -> str:
    """Whitespace after 0x or after the digits: int() strips it."""
    space = rng.choice(WHITESPACE)
    return "0x" + space + valid[2:] if rng.random() < 0.5 else valid + space


def edit_underscored(valid: str, rng: random.Random) -> str:
    """An "_" between two digits, as in a Python literal."""
    digits = valid[2:] if len(valid) > 3 else valid[2:] + "0"
    at = rng.randrange(1, len(digits))
    return "0x" + digits[:at] + "_" + digits[at:]


def edit_double_prefix(valid: str, rng: random.Random) -> str:
    return "0x" + rng.choice(("0x", "0X")) + valid[2:]


def edit_unicode_digit(valid: str, rng: random.Random) -> str:
    """One digit as another script writes it (one added if there is none to replace)."""
    script = rng.choice(UNICODE_DIGITS)
    places = [i for i, c in enumerate(valid) if i >= 2 and c.isdigit()]
    if not places:
        return valid + script[rng.randrange(10)]
    at = rng.choice(places)
    return valid[:at] + script[int(valid[at])] + valid[at + 1 :]


def make_bad_hex(valid: Maker, *edits: HexEdit) -> Maker:
    return lambda rng: rng.choice(edits)(valid(rng), rng)


def make_quantity_digits(rng: random.Random) -> str:
    return hex(rng.randrange(2**64))


def make_bad_decimal(rng: random.Random) -> str:
    """Decimal digits of another script, or superscripts among them."""
    digits = str(rng.randrange(1, 2**32))
    at = rng.randrange(len(digits))
    if rng.random() < 0.5:
        return digits[:at] + SUPERSCRIPT_DIGITS[int(digits[at])] + digits[at + 1 :]
    script = rng.choice(UNICODE_DIGITS)
    return "".join(script[int(c)] for c in digits)


BYTES_EDITS = (edit_odd, edit_non_hex, edit_unprefixed, edit_spaced_bytes)
# A quantity has any number of digits: an odd count is no error.
QUANTITY_EDITS = (
    edit_non_hex,
    edit_unprefixed,
    edit_empty,
    edit_signed,
    edit_spaced_digits,
    edit_underscored,
    edit_double_prefix,
    edit_unicode_digit,
)
# Decimal digits without 0x are a number there.
OP_UINT_HEX_EDITS = tuple(edit for edit in QUANTITY_EDITS if edit is not edit_unprefixed)


def make_bad_op_uint(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return make_bad_decimal(rng)
    return rng.choice(OP_UINT_HEX_EDITS)(make_quantity_digits(rng), rng)


BAD_HEX: dict[str, Maker] = {
    ADDRESS: make_bad_hex(VALID[ADDRESS], *BYTES_EDITS),
    SENDER: make_bad_hex(VALID[ADDRESS], *BYTES_EDITS),
    HASH: make_bad_hex(VALID[HASH], *BYTES_EDITS),
    SIGNATURE: make_bad_hex(VALID[SIGNATURE], *BYTES_EDITS),
    OP_ADDRESS: make_bad_hex(VALID[OP_ADDRESS], *BYTES_EDITS),
    FILTER_ID: make_bad_hex(VALID[FILTER_ID], *BYTES_EDITS),
    LOG_ADDRESS: make_bad_hex(VALID[LOG_ADDRESS], *BYTES_EDITS),
    TOPIC: make_bad_hex(VALID[TOPIC], *BYTES_EDITS),
    DATA: make_bad_hex(VALID[DATA], *BYTES_EDITS),  # never "0x": empty data is valid
    QUANTITY: make_bad_hex(make_quantity_digits, *QUANTITY_EDITS),
    SEQ: make_bad_hex(make_quantity_digits, *QUANTITY_EDITS),
    NUMBER: make_bad_hex(make_quantity_digits, *QUANTITY_EDITS),
    BLOCK: make_bad_hex(make_quantity_digits, *QUANTITY_EDITS),
    **{kind: make_bad_op_uint for kind in OP_UINT_BITS},
}


def make_sized(*sizes: int) -> Maker:
    return lambda rng: compute_hex(rng, rng.choice(sizes))


WRONG_LENGTH: dict[str, Maker] = {
    ADDRESS: make_sized(19, 21, 32),
    SENDER: make_sized(19, 21, 32),
    OP_ADDRESS: make_sized(19, 21, 32),
    LOG_ADDRESS: make_sized(19, 21, 32),
    HASH: make_sized(31, 33, 20),
    TOPIC: make_sized(31, 33, 20),
    SIGNATURE: make_sized(64, 66, 32),
}


def make_too_big(rng: random.Random) -> str:
    """A quantity of 2**256 or more."""
    if rng.random() < 0.5:
        return "0x1" + "0" * 64
    digits = rng.randrange(64, 80)
    return "0x" + rng.choice("123456789abcdef") + rng.randbytes(digits).hex()[:digits]


def make_negative(rng: random.Random) -> int:
    return -rng.randrange(1, 2**31)


def make_too_big_or_negative(rng: random.Random) -> Any:
    return make_too_big(rng) if rng.random() < 0.7 else make_negative(rng)


def make_past_sqlite(rng: random.Random) -> int:
    """A JSON integer past SQLite's 2**63 - 1 (and within what a JSON parser keeps exact)."""
    return rng.randrange(2**63, 2**64)


def make_count_out_of_range(rng: random.Random) -> int:
    return make_past_sqlite(rng) if rng.random() < 0.5 else make_negative(rng)


def make_seq_out_of_range(rng: random.Random) -> str:
    return hex(make_past_sqlite(rng)) if rng.random() < 0.5 else make_too_big(rng)


def make_long_decimal(rng: random.Random) -> str:
    """More decimal digits than a uint256 has (78), up to past int()'s limit of 4,300."""
    digits = rng.choice((79, 100, 4_301, 5_000))
    return rng.choice("123456789") + "".join(rng.choices("0123456789", k=digits - 1))


def make_past_width(bits: int) -> Maker:
    """A number of 2**bits or more (and below 2**256: too wide for its field alone), as a
    JSON integer, 0x-hex or decimal; or one out of any field's range."""

    def make(rng: random.Random) -> Any:
        roll = rng.random()
        if roll < 0.2 or bits == 256:
            return rng.choice((make_too_big_or_negative, make_long_decimal))(rng)
        number = rng.randrange(2**bits, 2 ** min(256, bits + rng.choice((1, 8, 64, 256))))
        if roll < 0.4 and number < 2**64:
            return number
        return hex(number) if roll < 0.7 else str(number)

    return make


OUT_OF_RANGE: dict[str, Maker] = {
    QUANTITY: make_too_big,
    BLOCK: make_too_big,
    NUMBER: make_too_big_or_negative,
    COUNT: make_count_out_of_range,
    SEQ: make_seq_out_of_range,
    PERCENTILE: lambda rng: rng.choice((101, -1, 100.5, -0.5, 1000)),
    **{kind: make_past_width(bits) for kind, bits in OP_UINT_BITS.items()},
}


def make_huge_digits(rng: random.Random) -> str:
    return compute_hex(rng, HUGE_HEX_DIGITS // 2)


def make_huge_quantity(rng: random.Random) -> str:
    return "0x" + "f" * HUGE_HEX_DIGITS


HUGE_HEX: dict[str, Maker] = {
    ADDRESS: make_huge_digits,
    SENDER: make_huge_digits,
    HASH: make_huge_digits,
    SIGNATURE: make_huge_digits,
    OP_ADDRESS: make_huge_digits,
    LOG_ADDRESS: make_huge_digits,
    TOPIC: make_huge_digits,
    QUANTITY: make_huge_quantity,
    SEQ: make_huge_quantity,
    NUMBER: make_huge_quantity,
    BLOCK: make_huge_quantity,
    **{kind: make_huge_quantity for kind in OP_UINT_BITS},
}
MUTATORS: dict[str, dict[str, Maker]] = {
    "wrong_type": WRONG_TYPE,
    "bad_hex": BAD_HEX,
    "wrong_length": WRONG_LENGTH,
    "out_of_range": OUT_OF_RANGE,
    "huge_hex": HUGE_HEX,
}


# -- shapes: valid values, and one spot changed ------------------------------------------------


def list_nodes(shape: Shape, path: Path = ()) -> list[tuple[Path, str]]:
    """Every spot of a value of `shape` (itself, its fields, its list's element) and its kind."""
    if isinstance(shape, str):
        return [(path, shape)]
    if isinstance(shape, dict):
        found = [(path, OBJECT)]
        for key, inner in shape.items():
            found += list_nodes(inner, (*path, key))
        return found
    return [(path, LIST), *list_nodes(shape[0], (*path, 0))]


def compute_valid(shape: Shape, rng: random.Random) -> Any:
    if isinstance(shape, str):
        return VALID[shape](rng)
    if isinstance(shape, dict):
        return {key: compute_valid(inner, rng) for key, inner in shape.items()}
    return [compute_valid(shape[0], rng)]


def compute_replaced(value: Any, path: Path, new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    copy: Any = list(value) if isinstance(value, list) else dict(value)
    copy[head] = compute_replaced(value[head], rest, new)
    return copy


Target: TypeAlias = tuple[str, int, Path, str]  # method, parameter index, spot, its kind


def list_targets(methods: dict[str, MethodSpec], mutators: dict[str, Maker]) -> list[Target]:
    return [
        (name, index, path, kind)
        for name, spec in methods.items()
        for index, shape in enumerate(spec.params)
        for path, kind in list_nodes(shape)
        if kind in mutators
    ]


# -- building requests -----------------------------------------------------------------------


@dataclass
class IdMaker:
    """Unique ids of several forms: small, negative and past-2**53 integers, and strings."""

    issued: int = 0

    def make(self, rng: random.Random) -> int | str:
        self.issued += 1
        n = self.issued
        roll = rng.random()
        if roll < 0.55:
            return n
        if roll < 0.65:
            return -n
        if roll < 0.75:
            return 2**53 + n  # past what a JavaScript number holds exactly
        if roll < 0.9:
            return f"hostile-{n}"
        return f'ø "{n}" \\ é'


@dataclass
class Context:
    chain: str
    rng: random.Random
    ids: IdMaker
    methods: dict[str, MethodSpec]
    targets: dict[str, list[Target]] = field(default_factory=dict)

    def pick_target(self, kind: str) -> Target:
        """A spot a mutation of `kind` applies to: a method drawn evenly, then a spot of it."""
        if kind not in self.targets:
            self.targets[kind] = list_targets(self.methods, MUTATORS[kind])
        names = sorted({target[0] for target in self.targets[kind]})
        name = self.rng.choice(names)
        return self.rng.choice([target for target in self.targets[kind] if target[0] == name])


Element: TypeAlias = tuple[Any, RequestId]  # a request's JSON value, and the id its answer has


def compute_request(method: Any, request_id: RequestId, params: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}


def compute_body(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def make_mutated(context: Context, kind: str) -> Element:
    """A real method with one spot of one parameter given a `kind` mutation; the parameters
    before it valid, those after it left out when optional."""
    rng = context.rng
    name, index, path, leaf = context.pick_target(kind)
    spec = context.methods[name]
    params = [compute_valid(shape, rng) for shape in spec.params[: max(index + 1, spec.required)]]
    params[index] = compute_replaced(params[index], path, MUTATORS[kind][leaf](rng))
    request_id = context.ids.make(rng)
    return compute_request(name, request_id, params), request_id


def make_arity(context: Context) -> Element:
    rng = context.rng
    name = rng.choice(sorted(context.methods))
    spec = context.methods[name]
    params: Any = [compute_valid(shape, rng) for shape in spec.params]
    if spec.required and rng.random() < 0.5:
        params = params[: rng.randrange(spec.required)]
    else:
        params += [rng.choice(("0x0", None, 1, "latest", {})) for _ in range(rng.randint(1, 3))]
    request_id = context.ids.make(rng)
    request = compute_request(name, request_id, params)
    if not params and rng.random() < 0.5:  # no params at all, or null: both mean []
        del request["params"]
    elif not params and rng.random() < 0.5:
        request["params"] = None
    return request, request_id


def make_params_not_array(context: Context) -> Element:
    rng = context.rng
    name = rng.choice(sorted(context.methods))
    spec = context.methods[name]
    named = {f"param{i}": compute_valid(shape, rng) for i, shape in enumerate(spec.params)}
    params = rng.choice((named, {}, "", "abc", 0, 42, True, False, 1.5))
    request_id = context.ids.make(rng)
    return compute_request(name, request_id, params), request_id


HOSTILE_NAMES = (
    "__proto__",
    "constructor",
    "toString",
    "hasOwnProperty",
    "__init__",
    "__class__",
    "methods",
    "handle",
    "rpc.discover",
    "system.listMethods",
    "",
    " ",
    "eth_chainId; DROP TABLE blocks",
    "../../../../etc/passwd",
    "%s%s%s%n",
)
NAME_PREFIXES = ("eth_", "net_", "web3_", "debug_", "anvil_", "evm_", "duet_", "admin_", "")
HOMOGLYPHS = {"a": "а", "e": "е", "o": "о", "c": "с"}  # Latin to Cyrillic


def compute_near_miss(name: str, rng: random.Random) -> str:
    edits: list[Callable[[str], str]] = [
        str.upper,
        str.swapcase,
        lambda n: n + " ",
        lambda n: " " + n,
        lambda n: n + "\u0000",
        lambda n: n[:-1],
        lambda n: n + "s",
        lambda n: "".join(HOMOGLYPHS.get(c, c) for c in n),
    ]
    return rng.choice(edits)(name)


def make_unknown_name(context: Context) -> tuple[str, Any]:
    """A method name the chain does not serve, and its params."""
    rng = context.rng
    roll = rng.random()
    other = sorted(set(METHODS["zk" if context.chain == "fast" else "fast"]) - set(context.methods))
    if roll < 0.2:
        # The other chain's method, with one parameter too many for it as well.
        name = rng.choice(other)
        return name, [None] * (len(METHODS_OF_ANY[name].params) + 1)
    if roll < 0.3:  # a WebSocket method, over HTTP
        return rng.choice(("eth_subscribe", "eth_unsubscribe")), []
    if roll < 0.45:
        return rng.choice(HOSTILE_NAMES), []
    if roll < 0.5:
        return "eth_" + "x" * LONG_NAME_CHARS, []
    if roll < 0.75:
        return compute_near_miss(rng.choice(sorted(context.methods)), rng), []
    letters = "".join(rng.choice("abcdefghijklmnopqrstuvwxyzXYZ") for _ in range(12))
    return rng.choice(NAME_PREFIXES) + letters, []


def make_unknown_method(context: Context) -> Element:
    name, params = make_unknown_name(context)
    while name in context.methods:
        name, params = make_unknown_name(context)
    request_id = context.ids.make(context.rng)
    return compute_request(name, request_id, params), request_id


def make_envelope(context: Context) -> Element:
    """A request for a real method without parameters, its envelope broken; or no object."""
    rng = context.rng
    method = rng.choice(sorted(n for n, s in context.methods.items() if not s.params))
    request_id = context.ids.make(rng)
    request = compute_request(method, request_id, [])
    roll = rng.random()
    if roll < 0.15:
        return rng.choice((7, "eth_chainId", True, None, 1.5)), None
    if roll < 0.35:
        request["jsonrpc"] = rng.choice(("1.0", 2, 2.0, "2", "2.0 ", "", None, "3.0"))
    elif roll < 0.45:
        del request["jsonrpc"]
    elif roll < 0.65:
        request["method"] = rng.choice((42, None, [method], {"name": method}, True))
    elif roll < 0.75:
        del request["method"]
    else:  # not a string, a number or null: refused, and answered with id null
        request["id"] = rng.choice(
            ({"id": request_id}, [request_id], {}, [], True, False, [None], {"": None})
        )
        return request, None
    return request, request_id


def make_endless_call(context: Context) -> Element:
    """The endless loop as creation code (revm runs it), or as an account's code given in a
    state override (py-evm runs it: the time limit must stop it), by eth_call or
    eth_estimateGas."""
    request_id = context.ids.make(context.rng)
    method = context.rng.choice(("eth_call", "eth_estimateGas"))
    if context.rng.random() < 0.5:
        params: list[Any] = [dict(ENDLESS_CALL), "latest"]
    else:
        call = {"to": LOOP_ACCOUNT, "gas": ENDLESS_CALL["gas"]}
        params = [call, "latest", {LOOP_ACCOUNT: {"code": ENDLESS_CALL["data"]}}]
    return compute_request(method, request_id, params), request_id


SMALL_ELEMENTS: dict[str, Callable[[Context], Element]] = {
    "wrong_type": lambda c: make_mutated(c, "wrong_type"),
    "bad_hex": lambda c: make_mutated(c, "bad_hex"),
    "wrong_length": lambda c: make_mutated(c, "wrong_length"),
    "out_of_range": lambda c: make_mutated(c, "out_of_range"),
    "arity": make_arity,
    "params_not_array": make_params_not_array,
    "unknown_method": make_unknown_method,
    "envelope": make_envelope,
}
ONE_REQUEST: dict[str, Callable[[Context], Element]] = SMALL_ELEMENTS | {
    "huge_hex": lambda c: make_mutated(c, "huge_hex"),
    "endless_call": make_endless_call,
}


def make_element(context: Context) -> Element:
    """One batch element: a small invalid request, or no request object at all."""
    rng = context.rng
    if rng.random() < 0.15:
        return rng.choice((5, "x", None, True, [], [1])), None
    return SMALL_ELEMENTS[rng.choice(sorted(SMALL_ELEMENTS))](context)


def make_garbage_batch(context: Context) -> HostileRequest:
    elements = [make_element(context) for _ in range(context.rng.randint(1, GARBAGE_BATCH_MAX))]
    body = compute_body([value for value, _ in elements])
    return HostileRequest("garbage_batch", body, tuple(i for _, i in elements), True)


def make_huge_batch(context: Context) -> HostileRequest:
    size = RPC_MAX_BATCH + context.rng.randint(1, HUGE_BATCH_EXTRA_MAX)
    cheap = (make_unknown_method, make_arity, make_params_not_array)
    elements = [context.rng.choice(cheap)(context)[0] for _ in range(size)]
    return HostileRequest("huge_batch", compute_body(elements), (None,), False)


def make_empty_batch(context: Context) -> HostileRequest:
    body = context.rng.choice((b"[]", b"[ ]", b" [\n] ", b"[\t]"))
    return HostileRequest("empty_batch", body, (None,), False)


def make_not_json_body(context: Context) -> bytes:
    rng = context.rng
    text = compute_body(make_mutated(context, "wrong_type")[0])
    at = text.index(b'"method":"') + len(b'"method":"')
    choices: list[Callable[[], bytes]] = [
        lambda: text[: rng.randrange(len(text))],  # truncated, down to nothing
        lambda: text[:at] + rng.choice((b"\xff\xfe", b"\xc0\xaf", b"\xed\xa0\x80")) + text[at:],
        lambda: text + rng.choice((b" x", b"}", b",{}", b"\x00", b"]", b"\n\n{}")),
        lambda: text[:at] + b"\\ud800" + text[at:],  # a lone surrogate
        lambda: b"\xef\xbb\xbf" + text,  # a byte order mark
        lambda: text.replace(b'"', b"'"),
        lambda: text.replace(b'"jsonrpc"', b"jsonrpc"),
        lambda: text.replace(b'"params":[', b'"params":[NaN,', 1),
        lambda: text[:-1] + b",}",
        lambda: b"// a comment\n" + text,
        lambda: rng.choice((b"", b" \n\t", b"<html></html>", b"jsonrpc=2.0&method=eth_chainId")),
        lambda: (
            rng.choice(b"<@#\x00\xff").to_bytes(1, "big")
            + rng.randbytes(rng.randrange(RANDOM_BYTES_MAX))
        ),
    ]
    return rng.choice(choices)()


def make_not_json(context: Context) -> HostileRequest:
    return HostileRequest("not_json", make_not_json_body(context), (None,), False)


def make_deep_nesting(context: Context) -> HostileRequest:
    rng = context.rng
    depth = rng.randint(NESTING_MIN, NESTING_MAX)
    request_id = json.dumps(context.ids.make(rng)).encode()
    bodies = (
        b"[" * depth,
        b"[" * depth + b"]" * depth,
        b'{"a":' * depth + b"1" + b"}" * depth,
        b'{"jsonrpc":"2.0","id":'
        + request_id
        + b',"method":"eth_call","params":'
        + b"[" * depth
        + b"]" * depth
        + b"}",
    )
    return HostileRequest("deep_nesting", rng.choice(bodies), (None,), False)


def make_oversize_body(context: Context) -> HostileRequest:
    """A request of a method taking one hex parameter, that parameter non-hex and so long
    that the body passes RPC_MAX_BODY_BYTES: refused before it is parsed, with id null."""
    rng = context.rng
    method = "eth_sendRawTransaction" if context.chain == "fast" else "duet_getAccount"
    request_id = json.dumps(context.ids.make(rng)).encode()
    head = b'{"jsonrpc":"2.0","id":' + request_id + b',"method":"' + method.encode()
    head += b'","params":["0x'
    tail = b'"]}'
    size = RPC_MAX_BODY_BYTES + rng.randint(1, OVERSIZE_EXTRA_MAX)
    body = head + b"g" * (size - len(head) - len(tail)) + tail
    return HostileRequest("oversize_body", body, (None,), False)


def make_one(kind: str) -> Callable[[Context], HostileRequest]:
    def make(context: Context) -> HostileRequest:
        value, request_id = ONE_REQUEST[kind](context)
        return HostileRequest(kind, compute_body(value), (request_id,), False)

    return make


BUILDERS: dict[str, Callable[[Context], HostileRequest]] = {
    **{kind: make_one(kind) for kind in ONE_REQUEST},
    "garbage_batch": make_garbage_batch,
    "huge_batch": make_huge_batch,
    "empty_batch": make_empty_batch,
    "not_json": make_not_json,
    "deep_nesting": make_deep_nesting,
    "oversize_body": make_oversize_body,
}


def list_kinds(chain: str) -> tuple[str, ...]:
    """Every kind of request `make_requests` makes for `chain`."""
    rare = tuple(k for k in RARE_KINDS if chain == "fast" or k not in FAST_ONLY_KINDS)
    return (*COMMON_WEIGHTS, *rare)


def compute_schedule(chain: str, rng: random.Random) -> Iterator[str]:
    """The kinds, in blocks of RARE_PERIOD: each rare kind once a block, the rest by weight.
    The first block starts with every kind once, so that a short run sees them all."""
    kinds = list_kinds(chain)
    rare = [k for k in kinds if k not in COMMON_WEIGHTS]
    common, weights = list(COMMON_WEIGHTS), list(COMMON_WEIGHTS.values())
    first = True
    while True:
        if first:
            head = rng.sample(kinds, len(kinds))
            block = head + rng.choices(common, weights, k=RARE_PERIOD - len(head))
            first = False
        else:
            block = rare + rng.choices(common, weights, k=RARE_PERIOD - len(rare))
            rng.shuffle(block)
        yield from block


def make_requests(chain: str, seed: int, count: int) -> Iterator[HostileRequest]:
    """`count` hostile requests for `chain` ("fast" or "zk"), the same ones for a seed; a
    shorter run is a prefix of a longer one."""
    if chain not in CHAINS:
        raise ValueError(f"chain must be one of {CHAINS}, not {chain!r}")
    rng = random.Random(seed)
    context = Context(chain, rng, IdMaker(), METHODS[chain])
    schedule = compute_schedule(chain, rng)
    for _ in range(count):
        yield BUILDERS[next(schedule)](context)


# -- checking answers -----------------------------------------------------------------------


def compute_id_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def is_same_id(got: Any, expected: RequestId) -> bool:
    return type(got) is type(expected) and got == expected


def check_error_shape(answer: Any) -> str:
    """Why `answer` is not a JSON-RPC 2.0 error object (its id aside); "" if it is one."""
    if not isinstance(answer, dict):
        return "an answer that is not a JSON object"
    if "result" in answer:
        return "answered with a result"
    if answer.get("jsonrpc") != "2.0":
        return 'jsonrpc is not "2.0"'
    error = answer.get("error")
    if not isinstance(error, dict):
        return "no error object"
    code, message = error.get("code"), error.get("message")
    if not isinstance(code, int) or isinstance(code, bool):
        return "the error code is not an integer"
    if code == INTERNAL_ERROR:  # a handler raised what it did not mean to: a crash
        return "internal error: a handler crashed"
    if not isinstance(message, str) or not message:
        return "the error message is not a non-empty string"
    if "id" not in answer:
        return "no id"
    return ""


def check_error(answer: Any, expected: RequestId) -> str:
    reason = check_error_shape(answer)
    if reason:
        return reason
    if not is_same_id(answer["id"], expected):
        got = compute_id_text(answer["id"])
        return f"id {compute_id_text(expected)} not echoed (got {got})"
    return ""


def check_batch(answer: Any, ids: tuple[RequestId, ...]) -> str:
    if not isinstance(answer, list):
        return "a batch answered with one object, not a list"
    if len(answer) != len(ids):
        return f"{len(answer)} answers to a batch of {len(ids)}"
    for index, element in enumerate(answer):
        reason = check_error_shape(element)
        if reason:
            return f"element {index}: {reason}"
    if all(is_same_id(a["id"], i) for a, i in zip(answer, ids, strict=True)):
        return ""
    # JSON-RPC lets a server answer a batch in any order: then the ids must match as a set.
    missing = Counter(map(compute_id_text, ids)) - Counter(compute_id_text(a["id"]) for a in answer)
    if missing:
        return f"id {next(iter(missing))} not echoed"
    return ""


def check_answer(request: HostileRequest, status: int, body: bytes) -> str:
    """Why (`status`, `body`) is not a well-formed JSON-RPC error answer to `request`, in a
    few words; "" if it is one: HTTP 200 (413 for an oversize body), JSON; for a single
    request one error object with its id; for a batch the node runs, one error per element,
    each id echoed; and no error an internal one (-32603)."""
    expected_status = OVERSIZE_STATUS if request.kind == "oversize_body" else 200
    if status != expected_status:
        return f"HTTP {status}" + ("" if expected_status == 200 else f", not {expected_status}")
    try:
        answer = json.loads(body)
    except ValueError:  # UnicodeDecodeError is one
        return "not JSON"
    if request.batch:
        return check_batch(answer, request.ids)
    if isinstance(answer, list):
        return f"a list of {len(answer)} answers to one request"
    return check_error(answer, request.ids[0])

"""A client of the fast chain's side of the bridge: the outbox and the root oracle.

`FastBridge.release` burns ZKPoW on the fast chain for an account on the ZK chain; the next
ZK block pays it out of escrow (watch it with `ZkClient.wait_for_fast_message`). The root
oracle is a plain contract object: any contract or client reads the recent ZK roots from it.
"""

from eth_account import Account
from web3 import Web3
from web3.contract import Contract
from web3.types import TxParams, Wei

from chain.artifacts import load_abi
from chain.fast.system import (
    OUTBOX_ADDRESS,
    OUTBOX_CONTRACT,
    OUTBOX_MESSAGE_FEE_WEI,
    ROOT_ORACLE_ADDRESS,
    ROOT_ORACLE_CONTRACT,
)

RELEASE_GAS = 100_000
RECEIPT_TIMEOUT_S = 30.0


class BridgeError(Exception):
    """The fast chain did not take a bridge transaction."""


class FastBridge:
    def __init__(self, url: str, private_key: bytes | str) -> None:
        self.w3 = Web3(Web3.HTTPProvider(url))
        self.account = Account.from_key(private_key)
        self.address = Web3.to_checksum_address(self.account.address)

    def outbox(self) -> Contract:
        address = Web3.to_checksum_address(OUTBOX_ADDRESS)
        return self.w3.eth.contract(address=address, abi=load_abi(OUTBOX_CONTRACT))

    def root_oracle(self) -> Contract:
        address = Web3.to_checksum_address(ROOT_ORACLE_ADDRESS)
        return self.w3.eth.contract(address=address, abi=load_abi(ROOT_ORACLE_CONTRACT))

    def balance(self, address: str | None = None) -> int:
        return int(self.w3.eth.get_balance(Web3.to_checksum_address(address or self.address)))

    def release(self, to: str, amount: int) -> int:
        """Burn `amount` here for `to` on the ZK chain, and the outbox's message fee on top
        (OUTBOX_MESSAGE_FEE_WEI); returns the outbox message number."""
        outbox = self.outbox()
        call = outbox.functions.release(Web3.to_checksum_address(to))
        params: TxParams = {
            "from": self.address,
            "value": Wei(amount + OUTBOX_MESSAGE_FEE_WEI),
            "gas": RELEASE_GAS,
            "nonce": self.w3.eth.get_transaction_count(self.address, "pending"),
        }
        tx = call.build_transaction(params)
        signed = self.account.sign_transaction(tx)
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT_S)
        if receipt["status"] != 1:
            raise BridgeError(f"release transaction {tx_hash.hex()} reverted")
        (event,) = outbox.events.Release().process_receipt(receipt)
        return int(event["args"]["seq"])

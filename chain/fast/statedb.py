"""The EVM state as py-evm sees it: a key-value store of trie nodes over the node's database.

Reads go to a bounded cache, then to SQLite. Writes made while executing a block land in
an overlay that the fast chain hands to the store's atomic block commit; a call that only
reads (eth_call) simply drops its overlay.
"""

from collections import OrderedDict
from collections.abc import Iterable

from eth.db.backends.base import BaseDB

from chain.fast.executor import NodeReader

NODE_CACHE_ENTRIES = 500_000


class NodeCache:
    """Trie nodes by hash, least recently used first out. Nodes never change (content hash)."""

    def __init__(self, reader: NodeReader, capacity: int = NODE_CACHE_ENTRIES) -> None:
        self._reader = reader
        self._capacity = capacity
        self._nodes: OrderedDict[bytes, bytes] = OrderedDict()

    def get(self, key: bytes) -> bytes | None:
        value = self._nodes.get(key)
        if value is not None:
            self._nodes.move_to_end(key)
            return value
        value = self._reader(key)
        if value is not None:
            self.put(key, value)
        return value

    def put(self, key: bytes, value: bytes) -> None:
        self._nodes[key] = value
        if len(self._nodes) > self._capacity:
            self._nodes.popitem(last=False)

    def __len__(self) -> int:
        return len(self._nodes)

    def forget(self, keys: Iterable[bytes]) -> None:
        for key in keys:
            self._nodes.pop(key, None)


class OverlayDB(BaseDB):
    """Writes stay in `writes`; reads fall through to the shared cache and the database."""

    def __init__(self, cache: NodeCache) -> None:
        self._cache = cache
        self.writes: dict[bytes, bytes] = {}

    def __getitem__(self, key: bytes) -> bytes:
        value = self.writes.get(key)
        if value is None:
            value = self._cache.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self.writes[key] = value

    def _exists(self, key: bytes) -> bool:
        return key in self.writes or self._cache.get(key) is not None

    def __delitem__(self, key: bytes) -> None:
        # Nodes are content-addressed and shared between historical states; the node keeps
        # every state (archive), so nothing is ever deleted.
        self.writes.pop(key, None)

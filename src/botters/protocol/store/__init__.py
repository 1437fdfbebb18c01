"""DataStores: in-memory tables that exchange messages are folded into.

Pure core (DESIGN.md): nothing here imports an event loop. ``wait()`` and
``watch()`` find the running framework (asyncio or trio) when awaited, and a
store that must reply to the exchange does so through the synchronous
:class:`MessageSink` it is handed, never by spawning a task.
"""

from __future__ import annotations

from ._async import AsyncLibraryNotFoundError, current_async_library
from ._book import BookSync, OrderBookStore
from ._collection import DataStoreCollection, InitializeError, MessageSink, RestResponse
from ._keepalive import KeepAlive, KeepAliveSink
from ._store import DataStore, Item
from ._stream import (
    DEFAULT_STREAM_MAXSIZE,
    StoreChange,
    StoreStream,
    StoreStreamClosed,
    StoreStreamOverflow,
)
from ._sync import (
    BookState,
    BookStatus,
    FetchSnapshot,
    Link,
    Resubscribe,
    ResyncRequest,
    ResyncSink,
)

__all__ = [
    "DEFAULT_STREAM_MAXSIZE",
    "AsyncLibraryNotFoundError",
    "BookState",
    "BookStatus",
    "BookSync",
    "DataStore",
    "DataStoreCollection",
    "FetchSnapshot",
    "InitializeError",
    "Item",
    "KeepAlive",
    "KeepAliveSink",
    "Link",
    "MessageSink",
    "OrderBookStore",
    "RestResponse",
    "Resubscribe",
    "ResyncRequest",
    "ResyncSink",
    "StoreChange",
    "StoreStream",
    "StoreStreamClosed",
    "StoreStreamOverflow",
    "current_async_library",
]

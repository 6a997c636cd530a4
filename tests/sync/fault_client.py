"""The client process of the fault test: drains the outbox of DB to URL, then exits 0.

Run as ``python tests/sync/fault_client.py DB URL``; the API key comes from VISAGE_SYNC_API_KEY.
The test kills this process at random moments (mid-batch) and starts it again.
"""

from __future__ import annotations

import logging
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.store import Store
from app.sync import SyncClient, SyncWorker
from app.sync.credentials import get_api_key
from app.sync.worker import Backoff


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    db, url = sys.argv[1], sys.argv[2]
    with Store(Path(db)) as store:
        worker = SyncWorker(store, lambda: SyncClient(url, get_api_key(), timeout_s=0.5), batch_size=50,
                            backoff=Backoff(base_s=0.02, cap_s=0.3, rng=random.Random()), idle_s=0.05)
        worker.start()
        try:
            while store.outbox.count() > 0:
                time.sleep(0.02)
        finally:
            worker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

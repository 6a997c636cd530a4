from __future__ import annotations

import threading

from app.store import Store

THREADS = 4
PER_THREAD = 50


def test_four_threads_writing_at_once_lose_nothing(store: Store) -> None:
    shared = store.create_conversation("shared")
    own = [store.create_conversation(f"thread {n}") for n in range(THREADS)]
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            start.wait()
            for i in range(PER_THREAD):
                store.add_message(shared, "user", f"shared {n}-{i}")
                store.add_message(own[n], "assistant", f"own {n}-{i}", timings={"i": float(i)})
                store.search(f"own {n}")  # readers interleave with writers
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    shared_texts = [m.text for m in store.get_conversation(shared).messages]
    assert sorted(shared_texts) == sorted(f"shared {n}-{i}" for n in range(THREADS) for i in range(PER_THREAD))
    for n in range(THREADS):
        mine = store.get_conversation(own[n]).messages
        assert [m.text for m in mine] == [f"own {n}-{i}" for i in range(PER_THREAD)]  # each thread's order kept
        assert [m.timings["i"] for m in mine] == [float(i) for i in range(PER_THREAD)]
    assert len(store.search("shared", limit=1000)) == THREADS * PER_THREAD

"""Helpers for coding batch frames cheaply: pre-packed array headers and a paused garbage collector."""
# Stdlib only: also loaded inside the isolated worker as a top-level module.
import gc
from contextlib import contextmanager


def array_header(n: int) -> bytes:
    """msgpack array header for n items (for arrays assembled from pre-packed items)."""
    if n < 16:
        return bytes([0x90 | n])
    if n < 65536:
        return b"\xdc" + n.to_bytes(2, "big")
    return b"\xdd" + n.to_bytes(4, "big")


@contextmanager
def collector_paused():
    """Pause the cyclic garbage collector while a batch is decoded or booked.

    A batch allocates thousands of cycle-free lists at once; meanwhile the collector would run
    dozens of times and walk the whole heap in its older generations, which costs about as much
    as the decoding itself. The objects are collected once, after the pause.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()

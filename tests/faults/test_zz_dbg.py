import time
from faults_dbg import _read_then_hang_up, live, MiB, HUGE_SIZE  # noqa

def test_dbg(live):
    for i in range(8):
        header = [None, "bytes=0-", f"bytes={i * MiB}-", f"bytes={i * 7 * MiB}-{HUGE_SIZE - 1}"][i % 4]
        t=time.monotonic()
        try:
            st = _read_then_hang_up(live, header, MiB)
        except Exception as e:
            print(i, "EXC", e, live.source.pool.stats)
            for _ in range(10):
                time.sleep(1); print(live.source.pool.stats)
            raise
        print(i, st, round(time.monotonic()-t,2), live.source.pool.stats, flush=True)

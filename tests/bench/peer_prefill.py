"""The benchmark peer with sessions of many messages already in its cache.

BENCH_PREFILL="h10:10,h10000:10000" fills cache the way the gist's own save() would have: a
`sess:SID` record with `total`, and `msg:SID:I` for every message. The app itself is unchanged;
uvicorn serves `peer_prefill:app` with the peer's folder on PYTHONPATH (tests/bench/peer, or the
gist's own app with `tests/bench/run --peer-dir`: both keep the same cache layout).
"""
import os

import app as peer  # tests/bench/peer/app.py, or the app in --peer-dir

app = peer.app

for spec in filter(None, os.environ.get("BENCH_PREFILL", "").split(",")):
    sid, n = spec.split(":")
    n = int(n)
    for i in range(n):
        if i % 2 == 0:
            peer.cache[f"msg:{sid}:{i}"] = f"prompt:benchmark_prompt_{i // 2}"
        else:
            peer.cache[f"msg:{sid}:{i}"] = "".join(f"resp{k}:{k * 7919 % 65536:04x};" for k in range(20))
    peer.cache[f"sess:{sid}"] = {"id": sid, "meta": "some meta information", "total": n, "uncached": 0}

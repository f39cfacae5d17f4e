"""Routing items to buckets in parallel while keeping their order: a chunked counting sort.

Items (a minute's views, say) are cut into ROUTE_CHUNKS chunks of consecutive items; each
chunk counts its items per bucket (a shard of viewers, a range of post slots) on a thread
of its own, `bucket_offsets` turns the counts into where each chunk's items of each bucket
go, and each chunk then writes its items there. Within a bucket, the items come out in
their order, whatever the number of threads; the callers (`model.exposure.push_audiences`,
`model.diffusion.add_engagement`) then work bucket by bucket in parallel.
"""

from __future__ import annotations

import numpy as np
from numba import njit

ROUTE_CHUNKS = 64
"""Chunks of items counted and routed in parallel."""


@njit(cache=True)
def bucket_offsets(chunk_bucket):
    """From chunk_bucket[c, b], the items of chunk c in bucket b: (at, bucket_start), where
    chunk c's items of bucket b go from at[c, b] on, and bucket b's items are
    bucket_start[b] to bucket_start[b + 1] - 1 (buckets in order, chunks in order within a
    bucket)."""
    chunks, buckets = chunk_bucket.shape
    at = np.empty((chunks, buckets), dtype=np.int64)
    bucket_start = np.zeros(buckets + 1, dtype=np.int64)
    total = 0
    for b in range(buckets):
        bucket_start[b] = total
        for c in range(chunks):
            at[c, b] = total
            total += chunk_bucket[c, b]
    bucket_start[buckets] = total
    return at, bucket_start

from campaigns.segments import DEFAULT_BUCKETS, Bucket, bucket_for


def code(days: int) -> str:
    bucket = bucket_for(days)
    assert isinstance(bucket, Bucket)
    return bucket.code


def test_buckets_cover_every_day_once() -> None:
    assert bucket_for(None) is None
    for days in range(0, 2000):
        holding = [
            b
            for b in DEFAULT_BUCKETS
            if b.min_days <= days and (b.max_days is None or days <= b.max_days)
        ]
        assert holding == [bucket_for(days)], days


def test_bucket_edges() -> None:
    assert code(0) == "dpd_000"
    assert code(30) == "dpd_001_030"
    assert code(31) == "dpd_031_060"
    assert code(366) == "dpd_366_plus"

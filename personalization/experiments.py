"""Experiment buckets: sha256 of "<salt>:<user id>" mod 10000, never Python's hash() (salted per process)."""

from __future__ import annotations

import hashlib

from personalization.models import Variant

BUCKETS = 10_000


def bucket(salt: str, user_id: int) -> int:
    """The user's bucket in an experiment with this salt, 0..9999: the same in every process."""
    return int(hashlib.sha256(f"{salt}:{user_id}".encode()).hexdigest(), 16) % BUCKETS


def variant_for(variants: dict[str, int], user_bucket: int) -> str:
    """The variant whose share of the buckets holds `user_bucket`; shares taken in Variant order."""
    total = sum(variants.get(name, 0) for name in Variant.values)
    edge = 0
    for name in Variant.values:
        edge += variants.get(name, 0)
        if user_bucket * total < edge * BUCKETS:
            return name
    return Variant.values[-1]


def validate_variants(variants) -> dict[str, int]:
    """Return the weights if they are non-negative integers of known variants with a positive sum."""
    if not isinstance(variants, dict) or not variants:
        raise ValueError('variants is an object of weights, e.g. {"popularity": 50, "model": 50}')
    unknown = set(variants) - set(Variant.values)
    if unknown:
        raise ValueError(f"unknown variants: {', '.join(sorted(unknown))}")
    if any(isinstance(w, bool) or not isinstance(w, int) or w < 0 for w in variants.values()):
        raise ValueError("weights are non-negative integers")
    if sum(variants.values()) <= 0:
        raise ValueError("the weights add up to more than zero")
    return dict(variants)

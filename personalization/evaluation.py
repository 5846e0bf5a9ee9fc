"""Offline evaluation: a temporal split, top-10 lists from a model and from popularity, and their metrics.

- Train on the interactions of days before the split, test on the items a user first consumed on
  or after it. Items consumed in the train period are neither recommended nor counted as hits.
- Test users: those with a train history and at least one test item.
- NDCG@10 = mean over test users of DCG/IDCG, DCG = sum over ranks r = 1..10 of rel_r / log2(r + 1)
  (rel 1 for a test item), IDCG the DCG of min(|test items|, 10) hits at the top.
- HR@10 = the share of test users with at least one test item in their top 10.
- Coverage = distinct items in any test user's top 10 / items in the train catalogue.
- Popularity ranks by the number of distinct train users per item. Ties go to the lower item index,
  which is the item-id order (training.Dataset sorts items by their typed id).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from personalization.training import Dataset, Scorer, fit

K = 10
BATCH = 2048


def metrics(recommended: dict[int, list[int]], relevant: dict[int, set[int]], catalogue: int, k: int = K) -> dict:
    """NDCG@k, HR@k and catalogue coverage of `recommended` lists against `relevant` items per user."""
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    ndcg = hits = 0.0
    shown: set[int] = set()
    for user, wanted in relevant.items():
        ranked = recommended.get(user, [])[:k]
        shown.update(ranked)
        gains = np.array([1.0 if item in wanted else 0.0 for item in ranked] + [0.0] * (k - len(ranked)))
        ideal = discounts[: min(len(wanted), k)].sum()
        ndcg += float(gains @ discounts) / ideal
        hits += 1.0 if gains.any() else 0.0
    users = len(relevant)
    return {
        "ndcg_at_10": ndcg / users if users else 0.0,
        "hr_at_10": hits / users if users else 0.0,
        "coverage": len(shown) / catalogue if catalogue else 0.0,
    }


def top_k(scores: np.ndarray, consumed: sp.csr_matrix, k: int = K) -> list[list[int]]:
    """Each row's k best columns by (score descending, column ascending), consumed columns left out."""
    scores = scores.copy()
    for row in range(scores.shape[0]):
        scores[row, consumed.indices[consumed.indptr[row] : consumed.indptr[row + 1]]] = -np.inf
    k = min(k, scores.shape[1])
    # The k-th best score per row; every column at or above it is a candidate, ordered exactly below.
    kth = -np.partition(-scores, k - 1, axis=1)[:, k - 1]
    lists = []
    for row in range(scores.shape[0]):
        columns = np.flatnonzero((scores[row] >= kth[row]) & np.isfinite(scores[row]))
        order = np.lexsort((columns, -scores[row, columns]))
        lists.append([int(c) for c in columns[order][:k]])
    return lists


def split(user_ids, items, days, counts, split_day):
    """Return (train Dataset, {train row: set of test item columns}) for a temporal split at `split_day`."""
    user_ids, days, items = np.asarray(user_ids, dtype=np.int64), np.asarray(days), np.asarray(items)
    before = days < np.datetime64(split_day)
    train = Dataset.build(user_ids[before], list(items[before]), np.asarray(counts)[before])
    after_users, after_items = user_ids[~before], items[~before]
    # A new user or item cannot be known to the model, nor counted by popularity: left out.
    rows = np.searchsorted(train.users, after_users)
    known_user = (rows < len(train.users)) & (train.users[np.minimum(rows, len(train.users) - 1)] == after_users)
    column = {item: c for c, item in enumerate(train.items)}
    columns = np.fromiter((column.get(i, -1) for i in after_items), dtype=np.int64, count=len(after_items))
    keep = known_user & (columns >= 0)
    rows, columns = rows[keep].astype(np.int64), columns[keep]
    width = max(len(train.items), 1)
    consumed = np.repeat(np.arange(len(train.users), dtype=np.int64), np.diff(train.matrix.indptr)) * width
    consumed += train.matrix.indices
    fresh = ~np.isin(rows * width + columns, consumed)
    test: dict[int, set[int]] = {}
    for r, c in zip(rows[fresh].tolist(), columns[fresh].tolist(), strict=True):
        test.setdefault(r, set()).add(c)
    return train, test


def popularity_lists(train: sp.csr_matrix, rows: list[int], k: int = K) -> list[list[int]]:
    """Top-k by distinct train users per item, consumed items excluded."""
    popularity = np.asarray((train > 0).sum(axis=0), dtype=np.float64).ravel()
    lists = []
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        scores = np.tile(popularity, (len(batch), 1))
        lists += top_k(scores, train[batch], k)
    return lists


def model_lists(scorer: Scorer, train: sp.csr_matrix, rows: list[int], k: int = K) -> list[list[int]]:
    """Top-k by the model's scores, consumed items excluded."""
    lists = []
    for start in range(0, len(rows), BATCH):
        batch = np.asarray(rows[start : start + BATCH])
        lists += top_k(scorer.scores(batch), train[batch], k)
    return lists


def evaluate(kind: str, user_ids, items, days, counts, split_day) -> dict:
    """Train `kind` on the days before `split_day` and measure it and popularity on the days after."""
    train, test = split(user_ids, items, days, counts, split_day)
    rows = sorted(test)
    catalogue = len(train.items)
    result = {"users": len(rows), "catalogue": catalogue}
    if not rows:
        return {
            **result,
            **{f"{p}{m}": 0.0 for p in ("", "popularity_") for m in ("ndcg_at_10", "hr_at_10", "coverage")},
        }
    arrays = fit(kind, train.matrix)
    arrays.update(
        users=train.users,
        items=np.array(train.items),
        user_items_data=train.matrix.data,
        user_items_indices=train.matrix.indices,
        user_items_indptr=train.matrix.indptr,
    )
    scorer = Scorer(kind, arrays)
    model = metrics(dict(zip(rows, model_lists(scorer, train.matrix, rows), strict=True)), test, catalogue)
    popular = metrics(dict(zip(rows, popularity_lists(train.matrix, rows), strict=True)), test, catalogue)
    return {**result, **model, **{f"popularity_{name}": value for name, value in popular.items()}}

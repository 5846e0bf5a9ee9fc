"""Train implicit 0.7 models on a scipy sparse user x item matrix, reproducibly, and score with them.

Reproducible: items sorted by their typed id, users by id, `random_state` fixed, one thread for
implicit and for BLAS (threadpoolctl). The sha256 is taken over the model's arrays and params,
not over the file (a zip's entries carry the time they were written), so the same inputs give the
same version whatever day they are trained on.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
import warnings
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp
from implicit.utils import ParameterWarning
from threadpoolctl import threadpool_limits

# What the models are trained with; part of the sha256, so a change of params is a new version.
PARAMS = {
    "bm25": {"K": 100, "K1": 1.2, "B": 0.75},
    "als": {"factors": 64, "regularization": 0.05, "alpha": 2.0, "iterations": 15, "random_state": 20250},
}
ITEM_WIDTH = 40  # typed ids are stored as fixed-width unicode arrays (no pickle in an artifact)


def item_key(item: str) -> tuple:
    """Order typed ids by type, then by numeric id (reader:2 before reader:10), then by code."""
    kind, _, ident = item.partition(":")
    return (kind, 0, int(ident), "") if ident.isdigit() else (kind, 1, 0, ident)


def typed_ids(items: list[str], kind: str) -> np.ndarray:
    """The ids of items of one type, as an array that sorts like item_key: integers, or codes."""
    if kind == "service":
        return np.array([item[len(kind) + 1 :] for item in items], dtype=f"<U{ITEM_WIDTH}")
    if not items:
        return np.array([], dtype=np.int64)
    # "reader:1\nreader:2" -> "1\n2", parsed in C: ten thousand ids in about a millisecond (the
    # items were validated as <kind>:<digits>; numpy's unicode-to-int cast is five times slower).
    return np.fromstring("\n".join(items).replace(f"{kind}:", ""), dtype=np.int64, sep="\n")


@dataclass
class Dataset:
    """Interactions as a CSR matrix: rows are `users` (ascending ids), columns `items` (in item_key order)."""

    users: np.ndarray
    items: list[str]
    matrix: sp.csr_matrix

    @classmethod
    def build(cls, user_ids, items, counts) -> Dataset:
        """Sum (user, item, count) triples into a matrix; duplicates add up."""
        user_ids = np.asarray(user_ids, dtype=np.int64)
        users, rows = np.unique(user_ids, return_inverse=True)
        catalogue = sorted(set(items), key=item_key)
        column = {item: index for index, item in enumerate(catalogue)}
        cols = np.fromiter((column[i] for i in items), dtype=np.int32, count=len(items))
        matrix = sp.csr_matrix((np.asarray(counts, dtype=np.float32), (rows, cols)), shape=(len(users), len(catalogue)))
        matrix.sum_duplicates()
        matrix.sort_indices()
        return cls(users=users, items=catalogue, matrix=matrix)


def fit(kind: str, matrix: sp.csr_matrix) -> dict[str, np.ndarray]:
    """Fit a model of `kind` on `matrix` with one thread; return its arrays."""
    params = PARAMS[kind]
    with threadpool_limits(limits=1):
        if kind == "bm25":
            from implicit.nearest_neighbours import BM25Recommender

            model = BM25Recommender(K=params["K"], K1=params["K1"], B=params["B"], num_threads=1)
            with warnings.catch_warnings():
                # implicit's own BM25 weighting hands its fit a COO matrix and warns about it
                warnings.simplefilter("ignore", ParameterWarning)
                model.fit(matrix, show_progress=False)
            similarity = model.similarity.tocsr()
            similarity.sort_indices()
            return {
                "similarity_data": similarity.data.astype(np.float32),
                "similarity_indices": similarity.indices.astype(np.int32),
                "similarity_indptr": similarity.indptr.astype(np.int64),
            }
        if kind == "als":
            from implicit.cpu.als import AlternatingLeastSquares

            model = AlternatingLeastSquares(
                factors=params["factors"],
                regularization=params["regularization"],
                alpha=params["alpha"],
                iterations=params["iterations"],
                random_state=params["random_state"],
                num_threads=1,
            )
            model.fit(matrix, show_progress=False)
            return {"user_factors": model.user_factors, "item_factors": model.item_factors}
    raise ValueError(f"unknown model kind {kind!r}")


def digest(kind: str, arrays: dict[str, np.ndarray]) -> str:
    """The sha256 of a model: its kind, params and every array's name, dtype, shape and bytes."""
    hasher = hashlib.sha256(json.dumps({"kind": kind, "params": PARAMS[kind]}, sort_keys=True).encode())
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        hasher.update(f"{name}:{array.dtype.str}:{array.shape}".encode())
        hasher.update(array.tobytes())
    return hasher.hexdigest()


@dataclass
class Trained:
    kind: str
    arrays: dict[str, np.ndarray]
    sha256: str
    seconds: float

    @property
    def version(self) -> str:
        return f"{self.kind}-{self.sha256[:16]}"


def train(kind: str, dataset: Dataset) -> Trained:
    """Train a servable model: the fitted arrays plus the users, items and interactions it scores from."""
    started = time.perf_counter()
    arrays = fit(kind, dataset.matrix)
    matrix = dataset.matrix
    arrays.update(
        users=dataset.users,
        items=np.array(dataset.items, dtype=f"<U{ITEM_WIDTH}"),
        user_items_data=matrix.data.astype(np.float32),
        user_items_indices=matrix.indices.astype(np.int32),
        user_items_indptr=matrix.indptr.astype(np.int64),
    )
    return Trained(kind, arrays, digest(kind, arrays), time.perf_counter() - started)


def to_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """The artifact file: an .npz of plain arrays (loaded without pickle)."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


class Scorer:
    """A loaded model: scores every item for a user, and names the item of theirs behind a score."""

    def __init__(self, kind: str, arrays: dict[str, np.ndarray]):
        self.kind = kind
        self.arrays = arrays
        self.items = arrays["items"]
        n_users, n_items = len(arrays["users"]), len(self.items)
        self.user_items = sp.csr_matrix(
            (arrays["user_items_data"], arrays["user_items_indices"], arrays["user_items_indptr"]),
            shape=(n_users, n_items),
        )
        if kind == "bm25":
            self.similarity = sp.csr_matrix(
                (arrays["similarity_data"], arrays["similarity_indices"], arrays["similarity_indptr"]),
                shape=(n_items, n_items),
            )

    @classmethod
    def from_bytes(cls, kind: str, content: bytes, sha256: str) -> Scorer:
        """Load an artifact and check it is the model its row names."""
        with np.load(io.BytesIO(content), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        if digest(kind, arrays) != sha256:
            raise ValueError("the model artifact does not match its sha256")
        return cls(kind, arrays)

    @cached_property
    def user_row(self) -> dict[int, int]:
        return {int(user): row for row, user in enumerate(self.arrays["users"])}

    @cached_property
    def _typed(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per item type: the ids of that type's items (sorted) and their columns."""
        found = {}
        for kind in {str(item).partition(":")[0] for item in self.items}:
            columns = np.array([c for c, item in enumerate(self.items) if str(item).startswith(f"{kind}:")])
            ids = typed_ids([str(self.items[c]) for c in columns], kind)
            order = np.argsort(ids, kind="stable")
            found[kind] = (ids[order], columns[order])
        return found

    def columns(self, kind: str, ids: np.ndarray) -> np.ndarray:
        """The column of each id of type `kind` (from typed_ids), -1 for an item the model does not know."""
        known, columns = self._typed.get(kind, (np.array([], dtype=ids.dtype), np.array([], dtype=np.int64)))
        if len(known) == 0 or len(ids) == 0:
            return np.full(len(ids), -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(known, ids), len(known) - 1)
        return np.where(known[at] == ids, columns[at], -1)

    def scores(self, rows: np.ndarray) -> np.ndarray:
        """Scores of every item for the users at `rows` (a dense rows x items array)."""
        if self.kind == "bm25":
            return np.asarray((self.user_items[rows] @ self.similarity).todense(), dtype=np.float64)
        users = self.arrays["user_factors"][rows]
        return (users @ self.arrays["item_factors"].T).astype(np.float64)

    def because(self, row: int, columns: np.ndarray) -> list[str]:
        """For each item column, the user's own item that contributes most to its score (ties: first item)."""
        history = self.user_items[row].indices
        if len(history) == 0:
            return [""] * len(columns)
        if self.kind == "bm25":
            contribution = self.user_items[row, history].toarray().T * self.similarity[history][:, columns].toarray()
        else:
            factors = self.arrays["item_factors"]
            contribution = factors[history] @ factors[columns].T
        return [str(self.items[history[i]]) for i in np.argmax(contribution, axis=0)]

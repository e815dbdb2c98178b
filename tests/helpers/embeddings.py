"""Embedding models for the stand-in embeddings endpoint (tests/helpers/llm_server.py): no neural
model can be downloaded on these machines, so the tests and bench/kb.py embed with models made
here, whose behaviour the tests can reason about.

- :class:`ConceptEmbedder`: each word is a dimension (hashed), except the words of a concept
  (synonyms the test names: "refund", "money", "reimbursed"), which share one: a question and a
  passage with no word in common are near when their words mean the same.
- :class:`LsaEmbedder`: latent semantic analysis fitted on a corpus (the KB passages): the
  tf-idf matrix of the words (folded, cut to their first 6 letters, a crude stemmer for English and
  Portuguese alike) reduced by a truncated SVD. A real dense retrieval method, not tuned to the
  questions: what bench/kb.py fuses with full-text search when no real endpoint is given.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping

import numpy as np

__all__ = ["ConceptEmbedder", "LsaEmbedder", "words"]


def words(text: str) -> list[str]:
    """`text`'s words, lower case, without accents, cut to 6 letters."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))
    return [w[:6] for w in re.findall(r"[a-z0-9]{3,}", folded)]


class ConceptEmbedder:
    """Bag of words hashed into `dimensions`, the words of one concept counting as one word."""

    def __init__(self, concepts: Mapping[str, Iterable[str]], dimensions: int = 256) -> None:
        self.dimensions = dimensions
        self.concept = {w: name for name, members in concepts.items() for m in members for w in words(m)}

    def __call__(self, text: str) -> list[float]:
        vector = [0.0] * self.dimensions
        for word in words(text):
            vector[zlib.crc32(self.concept.get(word, word).encode()) % self.dimensions] += 1.0
        return vector


class LsaEmbedder:
    """Latent semantic analysis of `corpus` in `dimensions` dimensions."""

    def __init__(self, corpus: list[str], dimensions: int = 48) -> None:
        docs = [Counter(words(t)) for t in corpus]
        vocabulary = sorted({w for d in docs for w in d})
        self.index = {w: i for i, w in enumerate(vocabulary)}
        frequency = np.zeros(len(vocabulary))
        for d in docs:
            for w in d:
                frequency[self.index[w]] += 1
        self.idf = np.log((1 + len(docs)) / (1 + frequency)) + 1.0
        matrix = np.stack([self._tfidf(d) for d in docs])
        _, _, vt = np.linalg.svd(matrix, full_matrices=False)
        self.basis = vt[:min(dimensions, vt.shape[0])]

    def _tfidf(self, counts: Counter[str]) -> np.ndarray:
        vector = np.zeros(len(self.index))
        for w, n in counts.items():
            i = self.index.get(w)
            if i is not None:
                vector[i] = (1 + np.log(n)) * self.idf[i]
        return vector

    def __call__(self, text: str) -> list[float]:
        return [float(x) for x in self.basis @ self._tfidf(Counter(words(text)))]

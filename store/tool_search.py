"""Retrieval over stored tools: a pure-python TF-IDF cosine index with an inverted file."""
from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable

from bus.wire.tool_spec import ToolSpec

WORD = re.compile(r"[a-z]+")


def words(text: str) -> list[str]:
    """Lower-case alphabetic words; numbers are instance details, not what a task is about."""
    return WORD.findall(text.lower())


def text_weights(text: str) -> dict[str, float]:
    """Term -> weight 1 for every word of a plain text document (descriptions, demo queries)."""
    return dict.fromkeys(words(text), 1.0)


def template_weights(spec: ToolSpec) -> dict[str, float]:
    """Term -> weight in 0..1: the share of the tool's example inputs (tests, demos) containing it.

    Words every example shares (the request template) weigh 1. Words of a single example (names, the
    words to sort) are dropped once a tool has 3+ examples: they say nothing about the task, and
    keeping them out of the vocabulary also makes them ignored in queries. Docstring words weigh
    at least 0.5, task and tool id words 1.
    """
    examples = [case.input for case in spec.tests] + [demo.input for demo in spec.demos]
    share: Counter[str] = Counter()
    for text in examples:
        share.update(set(words(text)))
    least = 2 if len(examples) >= 3 else 1
    weights = {term: count / len(examples) for term, count in share.items() if count >= least}
    for term in words(spec.docstring):
        weights[term] = max(weights.get(term, 0.0), 0.5)
    for term in words(f"{spec.task.replace('_', ' ')} {spec.tool_id.replace('_', ' ')}"):
        weights[term] = 1.0
    return weights


class ToolIndex:
    """Cosine similarity between a request and each tool; scores in 0..1, cost set by the query."""

    def __init__(self) -> None:
        """An empty index; `rebuild` fills it."""
        self.keys: list[tuple[str, str]] = []
        self._postings: dict[str, list[tuple[int, float]]] = {}
        self._idf: dict[str, float] = {}
        self._term_cache: dict[tuple[str, str], dict[str, float]] = {}

    def rebuild(self, specs: Iterable[ToolSpec]) -> None:
        """Index these tool versions (one per tool id); term weights are cached per immutable version."""
        specs = list(specs)
        cache: dict[tuple[str, str], dict[str, float]] = {}
        for spec in specs:
            key = (spec.tool_id, spec.version)
            cache[key] = self._term_cache.get(key) or template_weights(spec)
        self._term_cache = cache
        self.index_documents(cache.items())

    def index_documents(self, documents: Iterable[tuple[tuple[str, str], dict[str, float]]]) -> None:
        """Index any documents given as (key, term -> weight); e.g. API descriptions or tool demos."""
        documents = list(documents)
        doc_freq: Counter[str] = Counter()
        for _, weights in documents:
            doc_freq.update(weights.keys())
        n_docs = len(documents)
        self._idf = {term: math.log(1.0 + n_docs / df) for term, df in doc_freq.items()}
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self.keys = []
        for index, (key, weights) in enumerate(documents):
            self.keys.append(key)
            vector = {term: share * self._idf[term] for term, share in weights.items()}
            norm = math.sqrt(sum(w * w for w in vector.values())) or 1.0
            for term, weight in vector.items():
                postings[term].append((index, weight / norm))
        self._postings = dict(postings)

    def query(self, text: str, k: int = 3) -> list[tuple[tuple[str, str], float]]:
        """The k best (tool_id, version) keys with cosine scores, best first; unknown words are ignored."""
        counts = Counter(term for term in words(text) if term in self._idf)
        if not counts or k <= 0:
            return []
        vector = {term: (1.0 + math.log(tf)) * self._idf[term] for term, tf in counts.items()}
        norm = math.sqrt(sum(w * w for w in vector.values())) or 1.0
        scores: dict[int, float] = defaultdict(float)
        for term, weight in vector.items():
            q = weight / norm
            for index, d in self._postings[term]:
                scores[index] += q * d
        best = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k]
        return [(self.keys[index], min(1.0, score)) for index, score in best]

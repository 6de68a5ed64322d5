"""Which tools a request may call and which demos to show it: retrieval over descriptions and explored demos."""
from __future__ import annotations

from store.tool_demos import ToolDemo, ToolDemos
from store.tool_search import ToolIndex

# Demos scored per request before the candidates are chosen: enough that each candidate can show some.
DEMO_POOL = 24


def candidates_and_demos(index: ToolIndex, demos: ToolDemos | None, query: str, k: int,
                         demo_k: int) -> tuple[list[str], list[ToolDemo]]:
    """The k tools that best match the request, by description or by an explored query like it, and
    the demo_k demos of those tools most similar to it (no demos store: descriptions only)."""
    scores = {key[0]: score for key, score in index.query(query, k=k)}
    pool = demos.similar(query, max(DEMO_POOL, demo_k)) if demos is not None and demo_k else []
    for score, demo in pool:
        # An explored query close to the request is evidence for its tool as strong as the description.
        scores[demo.tool] = max(scores.get(demo.tool, 0.0), score)
    names = sorted(scores, key=lambda name: -scores[name])[:k]
    return names, [demo for _, demo in pool if demo.tool in names][:demo_k]

"""Which tools a request may call and which demos to show it: retrieval over descriptions and explored queries."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from bus.wire.api_spec import ApiSpec
from store.tool_demos import ToolDemo, ToolDemos
from store.tool_search import ToolIndex, text_weights

# Demos scored per request before those of the candidates are kept: enough that each can show some.
DEMO_POOL = 24


def _index(documents: Mapping[str, str]) -> ToolIndex:
    index = ToolIndex()
    index.index_documents(((name, ""), text_weights(text)) for name, text in documents.items())
    return index


class ToolRetrieval:
    """Tools ranked by how like a request their description is, plus how like it the queries they served are."""

    def __init__(self, apis: Sequence[ApiSpec], served: Mapping[str, Sequence[str]] | None = None) -> None:
        """Index the descriptions and, when given, each tool's explored queries (successful trials)."""
        self.size = len(apis)
        self.described = _index({api.name: f"{api.name.replace('%%', ' ')} {api.description}" for api in apis})
        # A separate index: words every user query has ("can you", "what is") are common among
        # explored queries and weigh little there, while in descriptions they are rare and would
        # pull every request towards the tools that happen to have been explored.
        asked = {name: " ".join(queries) for name, queries in (served or {}).items() if queries}
        self.asked = _index(asked) if asked else None

    def top(self, query: str, k: int) -> list[str]:
        """The k best tools, best first."""
        scores = {key[0]: score for key, score in self.described.query(query, k=self.size)}
        if self.asked is not None:
            for key, score in self.asked.query(query, k=self.size):
                scores[key[0]] = scores.get(key[0], 0.0) + score
        return sorted(scores, key=lambda name: -scores[name])[:k]


def candidates_and_demos(tools: ToolRetrieval, demos: ToolDemos | None, query: str, k: int,
                         demo_k: int) -> tuple[list[str], list[ToolDemo]]:
    """The k tools that best match the request and the demo_k demos of those tools most like it."""
    names = tools.top(query, k)
    pool = demos.similar(query, max(DEMO_POOL, demo_k)) if demos is not None and demo_k else []
    return names, [demo for _, demo in pool if demo.tool in names][:demo_k]

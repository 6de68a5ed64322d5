"""Which tools a request may call and which demos to show it: retrieval over descriptions and explored queries."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from bus.wire.api_spec import ApiSpec
from store.tool_demos import ToolDemo, ToolDemos
from store.tool_search import ToolIndex, text_weights

# Demos scored per request before those of the candidates are kept: enough that each can show some.
DEMO_POOL = 24


def tool_index(apis: Sequence[ApiSpec], served: Mapping[str, Sequence[str]] | None = None) -> ToolIndex:
    """TF-IDF over each tool's name and description and, when given, the explored queries it served."""
    # Explored queries say how users ask for a tool, in the words users use; one document per tool
    # keeps a tool with many trials from crowding out the others. Successful trials count, not only
    # demos: a tool without arguments keeps one demo (every call is {}) however many queries it served.
    served = served or {}
    index = ToolIndex()
    index.index_documents(((api.name, ""), text_weights(" ".join([api.name.replace("%%", " "), api.description,
                                                                  *served.get(api.name, ())])))
                          for api in apis)
    return index


def candidates_and_demos(index: ToolIndex, demos: ToolDemos | None, query: str, k: int,
                         demo_k: int) -> tuple[list[str], list[ToolDemo]]:
    """The k tools that best match the request and the demo_k demos of those tools most like it."""
    names = [key[0] for key, _ in index.query(query, k=k)]
    pool = demos.similar(query, max(DEMO_POOL, demo_k)) if demos is not None and demo_k else []
    return names, [demo for _, demo in pool if demo.tool in names][:demo_k]

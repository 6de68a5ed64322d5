"""Source of the small runtime the transformed program carries into the sandbox worker.

It is plain Python text (no imports, no dunders) prepended to every transformed program: it
snapshots JSON-safe state, asks the host through `host_call` when a statement fails, decodes the
host's tagged values and records the trace. Every name starts with `coc_` (reserved).
"""
from __future__ import annotations

RUNTIME_SOURCE = '''
class coc_Abort(BaseException):
    """Raised when the host stops the run (budget, rejected replies); user code cannot catch it
    with `except Exception`."""


coc_run = {"trace": [], "python": 0, "simulated": 0, "pending": False, "output": [],
           "max_trace": 500, "value_chars": 300, "state_chars": 6000}


def coc_reset(max_trace, value_chars, state_chars):
    """Start a fresh run: the worker may reuse this module for many runs."""
    coc_run["trace"] = []
    coc_run["python"] = 0
    coc_run["simulated"] = 0
    coc_run["pending"] = False
    coc_run["output"] = []
    coc_run["max_trace"] = max_trace
    coc_run["value_chars"] = value_chars
    coc_run["state_chars"] = state_chars


def coc_is_data(value, depth):
    """True for values that are literals (so their repr round-trips through literal_eval)."""
    if value is None or value is True or value is False:
        return True
    if isinstance(value, (int, float, str)):
        return True
    if depth > 6:
        return False
    if isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            if not coc_is_data(item, depth + 1):
                return False
        return True
    if isinstance(value, dict):
        for key in value:
            if not coc_is_data(key, depth + 1) or not coc_is_data(value[key], depth + 1):
                return False
        return True
    return False


def coc_show(value):
    """Capped repr of a data value."""
    text = repr(value)
    cap = coc_run["value_chars"]
    if len(text) > cap:
        return text[:cap] + "...<" + str(len(text) - cap) + " more chars>"
    return text


def coc_snap(getters, names):
    """name -> repr for the data-valued names among `names` (all names when None), size-capped."""
    state = {}
    total = 0
    for name in getters:
        if names is not None and name not in names:
            continue
        try:
            value = getters[name]()
        except Exception:
            continue
        if not coc_is_data(value, 0):
            continue
        shown = coc_show(value)
        total += len(shown)
        if total > coc_run["state_chars"]:
            state[name] = "<omitted: state too large>"
            break
        state[name] = shown
    return state


def coc_step(site, by, changes, value):
    """Append one trace step unless the trace is full."""
    if len(coc_run["trace"]) < coc_run["max_trace"]:
        coc_run["trace"].append({"site": site, "by": by, "changes": changes, "value": value})


def coc_ok(site, getters, names):
    """A statement finished: count it as run by Python unless the LM just simulated part of it."""
    try:
        if coc_run["pending"]:
            coc_run["pending"] = False
            if coc_run["trace"] and len(coc_run["trace"]) < coc_run["max_trace"]:
                coc_run["trace"][-1]["changes"] = coc_snap(getters, names)
            return
        coc_run["python"] += 1
        if len(coc_run["trace"]) < coc_run["max_trace"]:
            coc_step(site, "python", coc_snap(getters, names), None)
    except Exception:
        pass


def coc_decode(value):
    """Rebuild tuples, sets and dicts from the host's tagged JSON."""
    if isinstance(value, list):
        return [coc_decode(v) for v in value]
    if isinstance(value, dict) and len(value) == 1:
        for tag in value:
            items = value[tag]
            if tag == "coc:tuple":
                return tuple([coc_decode(v) for v in items])
            if tag == "coc:set":
                return set([coc_decode(v) for v in items])
            if tag == "coc:dict":
                out = {}
                for pair in items:
                    out[coc_decode(pair[0])] = coc_decode(pair[1])
                return out
    return value


def coc_ask(site, mode, error, getters):
    """Hand a failing statement or expression to the host; return its decoded answer."""
    payload = {"kind": "coc_line", "site": site, "mode": mode, "error": repr(error)[:300],
               "state": coc_snap(getters, None), "step": len(coc_run["trace"])}
    reply = host_call(payload)
    if not isinstance(reply, dict) or "abort" in reply:
        raise coc_Abort(str(reply.get("abort") if isinstance(reply, dict) else reply))
    coc_run["simulated"] += 1
    coc_run["pending"] = True
    if mode == "value":
        value = coc_decode(reply.get("value"))
        coc_step(site, "lm", {}, coc_show(value))
        return value
    updates = {}
    raw = reply.get("updates") or {}
    for name in raw:
        updates[name] = coc_decode(raw[name])
    coc_step(site, "lm", dict([(k, coc_show(updates[k])) for k in updates]), None)
    return updates


def coc_value(site, thunk, getters, mark):
    """Evaluate an expression; when it raises, the LM supplies its value."""
    try:
        value = thunk()
    except Exception as coc_err:
        value = coc_ask(site, "value", coc_err, getters)
        if mark:
            coc_run["pending"] = False
        return value
    if mark:
        coc_ok(site, getters, ())
    return value


def coc_inplace(target, new):
    """Apply an LM update to a container the current scope cannot rebind (e.g. a global list)."""
    if isinstance(target, list) and isinstance(new, (list, tuple)):
        target[:] = list(new)
    elif isinstance(target, dict) and isinstance(new, dict):
        target.clear()
        target.update(new)
    elif isinstance(target, set) and isinstance(new, (set, list, tuple)):
        target.clear()
        target.update(new)


def print(*args, **kwargs):
    """Programs print to the trace, not to the worker's stdout."""
    if len(coc_run["output"]) < 200:
        coc_run["output"].append(" ".join([str(a) for a in args])[:500])


def coc_finish(getters, name):
    """The run's result: the designated answer variable plus counts and trace."""
    result = {"answer_set": False, "answer": None, "answer_repr": None}
    if name in getters:
        try:
            value = getters[name]()
            result = {"answer_set": True, "answer": str(value), "answer_repr": coc_show(value)}
        except Exception:
            pass
    return coc_pack(result)


def coc_is_json(value, depth):
    """True for values that cross the sandbox pipe unchanged (no sets, string keys only)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if depth > 8:
        return False
    if isinstance(value, (list, tuple)):
        return all([coc_is_json(v, depth + 1) for v in value])
    if isinstance(value, dict):
        return all([isinstance(k, str) and coc_is_json(value[k], depth + 1) for k in value])
    return False


def coc_finish_tool(value):
    """A soft tool's result: its return value (as data or text) plus counts and trace."""
    if not coc_is_json(value, 0):
        value = str(value)
    return coc_pack({"value": value, "value_repr": coc_show(value)})


def coc_pack(result):
    """Attach the run's counters, trace and printed output to a result dict."""
    result["python_lines"] = coc_run["python"]
    result["simulated_lines"] = coc_run["simulated"]
    result["trace"] = coc_run["trace"]
    result["output"] = coc_run["output"]
    return result
'''

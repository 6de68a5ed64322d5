"""Source of the small runtime the transformed program carries into the sandbox worker.

It is plain Python text (no imports, no dunders) prepended to every transformed program: it
snapshots JSON-safe state, asks the host through `host_call` when a statement fails, decodes the
host's tagged values and records the trace. Every name starts with `coc_` (reserved).
"""
from __future__ import annotations

RUNTIME_SOURCE = '''
def coc_Abort(reason):
    """The error that stops a run when the host says so (budget, rejected replies); the sandbox
    may not allow class statements, so it is a plain RuntimeError the host recognises."""
    return RuntimeError("coc_abort: " + reason)


coc_run = {"trace": [], "python": 0, "simulated": 0, "pending": False, "output": [],
           "ran": {}, "max_trace": 500, "value_chars": 300, "state_chars": 6000,
           "helpers": {}, "aborted": ""}


def coc_reset(max_trace, value_chars, state_chars, helpers):
    """Start a fresh run: the worker may reuse this module for many runs."""
    coc_run["helpers"] = helpers
    coc_run["aborted"] = ""
    coc_run["trace"] = []
    coc_run["python"] = 0
    coc_run["simulated"] = 0
    coc_run["pending"] = False
    coc_run["output"] = []
    coc_run["ran"] = {}
    coc_run["max_trace"] = max_trace
    coc_run["value_chars"] = value_chars
    coc_run["state_chars"] = state_chars


def coc_is_data(value, depth):
    """True for literal values (their repr round-trips through literal_eval); looks at no more
    than ~300 items so big containers stay cheap."""
    seen = [0]

    def check(v, d):
        seen[0] += 1
        if seen[0] > 300:
            return True
        if v is None or v is True or v is False or isinstance(v, (int, float, str)):
            return True
        if d > 6:
            return False
        if isinstance(v, (list, tuple, set, frozenset)):
            for item in v:
                if seen[0] > 300:
                    return True
                if not check(item, d + 1):
                    return False
            return True
        if isinstance(v, dict):
            for key in v:
                if seen[0] > 300:
                    return True
                if not check(key, d + 1) or not check(v[key], d + 1):
                    return False
            return True
        return False

    return check(value, depth)


def coc_brief(value, budget):
    """repr of a data value cut to about `budget` characters without building the full repr."""
    if isinstance(value, str):
        if len(value) > budget:
            return repr(value[:max(budget, 8)]) + "...<" + str(len(value)) + " chars>"
        return repr(value)
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        if isinstance(value, dict):
            items = value.items()
        else:
            items = value
        parts = []
        used = 0
        for item in items:
            if used > budget:
                parts.append("...<" + str(len(value)) + " items>")
                break
            if isinstance(value, dict):
                text = coc_brief(item[0], budget - used) + ": " + coc_brief(item[1], budget - used)
            else:
                text = coc_brief(item, budget - used)
            parts.append(text)
            used += len(text) + 2
        body = ", ".join(parts)
        if isinstance(value, list):
            return "[" + body + "]"
        if isinstance(value, tuple):
            return "(" + body + ("," if len(value) == 1 else "") + ")"
        if isinstance(value, dict):
            return "{" + body + "}"
        return ("{" + body + "}") if value else "set()"
    try:
        text = repr(value)
    except ValueError:
        return "<a number too long to show>"
    return text if len(text) <= budget + 20 else text[:budget] + "..."


def coc_show(value):
    """Short repr of a data value for the trace."""
    return coc_brief(value, coc_run["value_chars"])


def coc_snap(getters, names, cap=None):
    """name -> repr for the data-valued names among `names` (all names when None), size-capped."""
    state = {}
    total = 0
    budget = cap or coc_run["value_chars"]
    for name in getters:
        if names is not None and name not in names:
            continue
        try:
            value = getters[name]()
        except Exception:
            continue
        if not coc_is_data(value, 0):
            continue
        shown = coc_brief(value, budget)
        total += len(shown)
        if total > coc_run["state_chars"]:
            state[name] = "<omitted: state too large>"
            break
        state[name] = shown
    return state


def coc_step(site, by, changes, value, call=None):
    """Append one trace step unless the trace is full."""
    if len(coc_run["trace"]) < coc_run["max_trace"]:
        coc_run["trace"].append({"site": site, "by": by, "changes": changes, "value": value,
                                 "call": call})


def coc_ok(site, getters, names):
    """A statement finished: count it as run by Python unless the LM just simulated part of it."""
    try:
        if coc_run["pending"]:
            coc_run["pending"] = False
            if coc_run["trace"] and len(coc_run["trace"]) < coc_run["max_trace"]:
                coc_run["trace"][-1]["changes"] = coc_snap(getters, names)
            return
        coc_run["python"] += 1
        if site not in coc_run["ran"]:
            coc_run["ran"][site] = "python"
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


def coc_ask(site, mode, error, getters, call=None):
    """Hand a failing statement or expression to the host; return its decoded answer."""
    payload = {"kind": "coc_line", "site": site, "mode": mode, "error": repr(error)[:300],
               "state": coc_snap(getters, None, 1000), "step": len(coc_run["trace"])}
    if call is not None:
        payload["call"] = call
    if coc_run["aborted"]:
        raise coc_Abort(coc_run["aborted"])  # once stopped, never ask the host again
    reply = host_call(payload)
    if not isinstance(reply, dict) or "abort" in reply:
        coc_run["aborted"] = str(reply.get("abort") if isinstance(reply, dict) else reply)
        raise coc_Abort(coc_run["aborted"])
    coc_run["simulated"] += 1
    coc_run["ran"][site] = "lm"  # a site the LM ran even once counts as simulated
    coc_run["pending"] = True
    if mode == "value":
        value = coc_decode(reply.get("value"))
        coc_step(site, "lm", {}, coc_show(value), call)
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
    except (MemoryError, RecursionError):
        raise  # resource limits are hard stops, never simulated
    except Exception as coc_err:
        value = coc_ask(site, "value", coc_err, getters)
        if mark:
            coc_run["pending"] = False
        return value
    if mark:
        coc_ok(site, getters, ())
    return value


def coc_helper(site, getfn, args, kwargs, getters):
    """Call a helper the program never defines; when it does not exist the LM supplies the
    result of this call, with the argument values Python already computed."""
    try:
        fn = getfn()
    except NameError as coc_err:
        shown = [coc_show(a) for a in args] + [k + "=" + coc_show(kwargs[k]) for k in kwargs]
        call = coc_run["helpers"].get(site, "helper") + "(" + ", ".join(shown) + ")"
        return coc_ask(site, "value", coc_err, getters, call)
    return fn(*args, **kwargs)


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
            result = {"answer_set": True, "answer": coc_answer_text(value),
                      "answer_repr": coc_show(value)}
        except Exception:
            pass
    return coc_pack(result)


def coc_answer_text(value):
    """The answer as text; a list of plain items is written as its items between spaces (the
    answers of sorting and bracket questions are written so), not as a Python list."""
    if isinstance(value, (list, tuple)) and all(
            isinstance(item, (str, int, float)) and not isinstance(item, bool) for item in value):
        return " ".join(str(item) for item in value)
    return str(value)


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
    result["ran_sites"] = [[site, coc_run["ran"][site]] for site in coc_run["ran"]]
    result["trace"] = coc_run["trace"]
    result["output"] = coc_run["output"]
    return result
'''

"""Tagged JSON for test values: lossless for the builtin data types, a superset of plain JSON.

Plain JSON values stand for themselves, so call-test inputs/outputs written as ordinary JSON (the
usual case) need no tags. Values JSON cannot hold are wrapped in one-key objects:
``{"$tuple": [..]}``, ``{"$set": [..]}``, ``{"$frozenset": [..]}``, ``{"$bytes": "hex"}``,
``{"$complex": [re, im]}``, ``{"$float": "nan" | "inf" | "-inf"}``, ``{"$int": "0x.."}`` (beyond
4000 digits), ``{"$dict": [[k, v], ..]}`` (non-str keys, or a lone key that looks like a tag).

This module is imported by the sandboxed interpreter as well (as the top-level module ``codec``),
so it must stay stdlib-only and cheap to import: it avoids ``json`` (whose decoder pulls in ``re``,
about 7 ms per sandbox start) and uses the C string escaper of ``_json`` directly.

``encode`` is strict about types: only exact builtin types are accepted, subclasses of builtin types
(``Counter``, ``namedtuple``, a ``str`` subclass) are converted to their base type through the base
type's own C methods, and anything else raises ``TypeError``. That is what keeps a sandboxed
program from passing a call test with an object whose ``__eq__`` always returns True: the parent
only ever compares values it decoded itself. The builtins used after untrusted code may have run
are bound as default arguments when the module is imported, so patching ``builtins`` later cannot
change how values are encoded.
"""
from __future__ import annotations

from _json import encode_basestring_ascii as _escape
from math import isnan

TAGS = ("$tuple", "$set", "$frozenset", "$bytes", "$complex", "$float", "$int", "$dict")
_BIG = 10**4000  # int->str conversion is capped at 4300 digits (CPython); larger ints go as hex


def _builders(
    type=type, len=len, issubclass=issubclass, id=id, list=list, dict=dict, tuple=tuple,
    set=set, frozenset=frozenset, int=int, float=float, str=str, bytes=bytes, complex=complex,
    bool=bool, hex=hex, all=all, next=next, enumerate=enumerate, slice=slice,
    TypeError=TypeError, ValueError=ValueError, escape=_escape, isnan=isnan,
):  # type: ignore[no-untyped-def]
    # membership by id: `t in (int, ...)` would call a metaclass's __eq__
    exact = {id(t) for t in (int, float, str, bytes, complex, bool, type(None), list, tuple, dict, set, frozenset)}
    # exact builtin type for a subclass instance, via the base type's own (unpatchable) C method
    to_base = (
        (int, int.__int__), (float, float.__float__), (str, str.__str__),
        (bytes, bytes.__bytes__), (complex, complex.__complex__), (list, list.copy),
        (tuple, lambda v: tuple.__getitem__(v, slice(None))), (dict, dict.copy), (set, set.copy),
        (frozenset, frozenset.copy),
    )

    def base(v):  # type: ignore[no-untyped-def]
        """``v`` with a builtin-subclass type replaced by its exact base type (shallow)."""
        t = type(v)
        if id(t) in exact:
            return v
        for b, conv in to_base:
            if issubclass(t, b):
                return conv(v)
        return v

    def encode(v):  # type: ignore[no-untyped-def]
        v = base(v)
        t = type(v)
        if v is None or t is bool or t is str:
            return v
        if t is int:
            return v if -_BIG < v < _BIG else {"$int": hex(v)}
        if t is float:
            if isnan(v):
                return {"$float": "nan"}
            if v in (float("inf"), float("-inf")):
                return {"$float": "inf" if v > 0 else "-inf"}
            return v
        if t is list:
            return [encode(x) for x in v]
        if t is tuple:
            return {"$tuple": [encode(x) for x in v]}
        if t is dict:
            if all(type(k) is str for k in v) and not (len(v) == 1 and next(iter(v)).startswith("$")):
                return {k: encode(x) for k, x in v.items()}
            return {"$dict": [[encode(k), encode(x)] for k, x in v.items()]}
        if t is set or t is frozenset:
            # sorted by text so equal sets encode identically (cache keys, stored outputs)
            items = [encode(x) for x in v]
            items.sort(key=dumps)
            return {"$set" if t is set else "$frozenset": items}
        if t is bytes:
            return {"$bytes": v.hex()}
        if t is complex:
            return {"$complex": [encode(v.real), encode(v.imag)]}
        raise TypeError(f"unsupported value type {t.__name__}")

    def dumps(o):  # type: ignore[no-untyped-def]
        """Compact ASCII JSON text of an encoded value."""
        out = []
        put = out.append

        def emit(x):  # type: ignore[no-untyped-def]
            t = type(x)
            if x is None:
                put("null")
            elif x is True:
                put("true")
            elif x is False:
                put("false")
            elif t is str:
                put(escape(x))
            elif t is int:
                put(int.__repr__(x))
            elif t is float:
                put(float.__repr__(x))
            elif t is list:
                put("[")
                for i, y in enumerate(x):
                    if i:
                        put(",")
                    emit(y)
                put("]")
            elif t is dict:
                put("{")
                for i, (k, y) in enumerate(x.items()):
                    if i:
                        put(",")
                    put(escape(k))
                    put(":")
                    emit(y)
                put("}")
            else:
                raise TypeError(f"not an encoded value: {t.__name__}")

        emit(o)
        return "".join(out)

    def decode(o):  # type: ignore[no-untyped-def]
        """Python value of a tagged-JSON value (also accepts in-memory tuples and sets)."""
        t = type(o)
        if t is list:
            return [decode(x) for x in o]
        if t is tuple:
            return tuple(decode(x) for x in o)
        if t is dict:
            if len(o) == 1:
                ((k, x),) = o.items()
                if k in TAGS:
                    return _untag(k, x)
            return {k: decode(x) for k, x in o.items()}
        return o

    def _untag(tag, x):  # type: ignore[no-untyped-def]
        if tag == "$tuple":
            return tuple(decode(y) for y in x)
        if tag == "$set":
            return {decode(y) for y in x}
        if tag == "$frozenset":
            return frozenset(decode(y) for y in x)
        if tag == "$bytes":
            return bytes.fromhex(x)
        if tag == "$complex":
            return complex(decode(x[0]), decode(x[1]))
        if tag == "$float":
            if x not in ("nan", "inf", "-inf"):
                raise ValueError(f"bad $float value {x!r}")
            return float(x)
        if tag == "$int":
            return int(x, 16)
        return {decode(k): decode(y) for k, y in x}

    return base, encode, dumps, decode


base, encode, dumps, decode = _builders()

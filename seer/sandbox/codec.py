"""Tagged JSON for test values: lossless for the builtin data types, a superset of plain JSON.

Plain JSON values stand for themselves, so call-test inputs/outputs written as ordinary JSON (the
usual case) need no tags. Values JSON cannot hold are wrapped in one-key objects:
``{"$tuple": [..]}``, ``{"$set": [..]}``, ``{"$frozenset": [..]}``, ``{"$bytes": "hex"}``,
``{"$complex": [re, im]}``, ``{"$float": "nan" | "inf" | "-inf"}``, ``{"$int": "0x.."}`` (beyond
4000 digits), ``{"$decimal": "1.5"}``, ``{"$dict": [[k, v], ..]}`` (non-str keys, or a lone key
that looks like a tag). ``{"$ref": id}`` names an object that stays in the program's process (only
between the checker and the runner, see ``checker.py``; ``decode``/``loads`` reject it otherwise).

This module is imported by the sandboxed interpreter as well (as the top-level module ``codec``),
so it must stay stdlib-only (``json`` and ``decimal`` are loaded by the fork server anyway).

``encode`` is strict about types: only exact builtin types are accepted, subclasses of builtin types
(``Counter``, ``namedtuple``, a ``str`` subclass) are converted to their base type through the base
type's own C methods, and anything else raises ``TypeError``. That is what keeps a sandboxed
program from passing with an object whose ``__eq__`` always returns True: the trusted side only
ever compares values it decoded itself. The builtins used after untrusted code may have run are
bound as default arguments when the module is imported, so patching ``builtins`` later cannot
change how values are encoded.

``loads`` decodes text that came from a program (in the parent and in the checker) in linear
time: no dict is built by the JSON parser, crafted hash collisions are refused before any set or
dict is built (and in lists and tuples, which tests may turn into sets), nesting is capped at
``MAX_DEPTH``, size at ``MAX_TEXT`` characters and ``MAX_NODES`` values, and a deadline is checked
as it goes. ``decode`` is the same for in-memory values (expected outputs, stored data).
"""
from __future__ import annotations

from _json import encode_basestring_ascii as _escape
from decimal import Decimal
from json import JSONDecoder
from math import isnan
from time import monotonic

TAGS = ("$tuple", "$set", "$frozenset", "$bytes", "$complex", "$float", "$int", "$dict", "$decimal", "$ref",
        "$graph", "$node")
MAX_DEPTH = 100  # nesting of lists, tuples, dicts, sets in one value
MAX_NODES = 1 << 22  # values (containers and atoms) in one value
MAX_TEXT = 64 << 20  # characters of encoded text
MAX_COLLISIONS = 8  # keys of one set or dict that may share a hash value
_BIG = 10**4000  # int->str conversion is capped at 4300 digits (CPython); larger ints go as hex


def _builders(
    type=type, len=len, issubclass=issubclass, id=id, list=list, dict=dict, tuple=tuple,
    set=set, frozenset=frozenset, int=int, float=float, str=str, bytes=bytes, complex=complex,
    bool=bool, hex=hex, all=all, next=next, enumerate=enumerate, slice=slice, hash=hash,
    TypeError=TypeError, ValueError=ValueError, escape=_escape, isnan=isnan, Decimal=Decimal,
    decimal_str=Decimal.__str__, JSONDecoder=JSONDecoder, monotonic=monotonic,
    name_of=type.__dict__["__name__"].__get__, attribute=object.__getattribute__,
    new_object=object.__new__, AttributeError=AttributeError,
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
        """Tagged-JSON form of ``v`` (``TypeError`` for what is not builtin data)."""
        return _encode(v, _unsupported)

    def _unsupported(v):  # type: ignore[no-untyped-def]
        raise TypeError(f"unsupported value type {type(v).__name__}")

    def encode_objects(v, by_value, other=_unsupported):  # type: ignore[no-untyped-def]
        """``encode``, where instances of the classes named in ``by_value`` cross by value:
        ``{"$graph": [value, nodes]}``, ``nodes[k] = [class name, {attribute: value}]`` and each
        such instance replaced by ``{"$node": k}`` (shared and cyclic references kept, any length
        of linked structure at constant nesting)."""
        nodes, queue, index = [], [], {}

        def hook(o):  # type: ignore[no-untyped-def]
            name = name_of(type(o))
            if name in by_value:
                k = index.get(id(o))
                if k is None:
                    try:
                        d = attribute(o, "__dict__")
                    except AttributeError:
                        d = None
                    if type(d) is not dict:
                        return other(o)
                    k = index[id(o)] = len(queue)
                    queue.append((o, name, d))  # keeps o alive: its id stays its own
                return {"$node": k}
            return other(o)

        top = _encode(v, hook)
        i = 0
        while i < len(queue):  # grows while attributes are encoded
            _, name, d = queue[i]
            nodes.append([name, {k: _encode(x, hook) for k, x in list(d.items()) if type(k) is str}])
            i += 1
        return {"$graph": [top, nodes]} if nodes else top

    def _encode(v, other):  # type: ignore[no-untyped-def]
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
            return [_encode(x, other) for x in v]
        if t is tuple:
            return {"$tuple": [_encode(x, other) for x in v]}
        if t is dict:
            if all(type(k) is str for k in v) and not (len(v) == 1 and next(iter(v)).startswith("$")):
                return {k: _encode(x, other) for k, x in v.items()}
            return {"$dict": [[_encode(k, other), _encode(x, other)] for k, x in v.items()]}
        if t is set or t is frozenset:
            # sorted by text so equal sets encode identically (cache keys, stored outputs)
            items = [_encode(x, other) for x in v]
            items.sort(key=dumps)
            return {"$set" if t is set else "$frozenset": items}
        if t is bytes:
            return {"$bytes": v.hex()}
        if t is complex:
            return {"$complex": [_encode(v.real, other), _encode(v.imag, other)]}
        if issubclass(t, Decimal):
            return {"$decimal": decimal_str(v)}
        return other(v)

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

    class Pairs(list):
        """A JSON object as the parser saw it: its (key, value) pairs, no dict built yet."""
        __slots__ = ()

    parser = JSONDecoder(object_pairs_hook=Pairs)

    def loads(text, deadline=None, refs=None, classes=None):  # type: ignore[no-untyped-def]
        """Bounded decoding of tagged-JSON text that came from an untrusted program.

        Linear in the size of ``text``: the parser builds no dict (objects arrive as pairs), every
        set, dict, list and tuple is checked for crafted hash collisions (``_check_collisions``)
        before it is built or handed on, nesting is capped at ``MAX_DEPTH`` and the number of
        values at ``MAX_NODES``, and ``deadline`` (``time.monotonic()``) is checked as it goes.
        Raises ``ValueError`` (or ``RecursionError`` from the parser) on anything malformed.
        ``refs(id)`` resolves ``$ref``; ``classes(name)`` gives the class a ``$graph`` node is
        rebuilt as (``object.__new__`` and its ``__dict__``: no method of the class runs).
        Without them those tags are refused.
        """
        if len(text) > MAX_TEXT:
            raise ValueError(f"value too large ({len(text)} bytes encoded)")
        return _Decoder(deadline, refs, classes).value(parser.decode(text), 0)

    def decode(o, refs=None):  # type: ignore[no-untyped-def]
        """Python value of an in-memory tagged-JSON value (also accepts tuples and sets)."""
        return _Decoder(None, refs, None).value(o, 0)

    class _Decoder:
        __slots__ = ("classes", "deadline", "nodes", "objects", "refs")

        def __init__(self, deadline, refs, classes):  # type: ignore[no-untyped-def]
            self.deadline, self.refs, self.classes, self.nodes = deadline, refs, classes, 0
            self.objects = None  # instances of the $graph being decoded

        def value(self, o, depth):  # type: ignore[no-untyped-def]
            self.nodes += 1
            if not self.nodes & 0xFFF:
                if self.nodes > MAX_NODES:
                    raise ValueError(f"value has more than {MAX_NODES} parts")
                if self.deadline is not None and monotonic() > self.deadline:
                    raise ValueError("decoding ran out of time")
            t = type(o)
            if t is str or t is int or t is float or t is bool or o is None:
                return o
            if depth >= MAX_DEPTH:
                raise ValueError(f"value nested deeper than {MAX_DEPTH}")
            d = depth + 1
            if t is list:
                return self.sequence([self.value(x, d) for x in o])
            if t is tuple:
                return tuple(self.sequence([self.value(x, d) for x in o]))
            if t is set or t is frozenset:
                return t(self.hashables([self.value(x, d) for x in o]))
            if t is dict or t is Pairs:
                items = list(o.items()) if t is dict else o
                if len(items) == 1 and type(items[0][0]) is str and items[0][0] in TAGS:
                    return self.untag(items[0][0], items[0][1], d)
                for k, _ in items:
                    if type(k) is not str:
                        raise ValueError("object keys must be strings")
                return self.mapping([(k, self.value(x, d)) for k, x in items])
            raise ValueError(f"not a tagged-JSON value: {t.__name__}")

        def untag(self, tag, x, d):  # type: ignore[no-untyped-def]
            if tag == "$bytes":
                return bytes.fromhex(x)
            if tag == "$float":
                if x not in ("nan", "inf", "-inf"):
                    raise ValueError(f"bad $float value {x!r}")
                return float(x)
            if tag == "$int":
                return int(x, 16)
            if tag == "$decimal":
                return Decimal(x if type(x) is str else "x")
            if tag == "$ref":
                if self.refs is None or type(x) not in (int, str):
                    raise ValueError("unexpected $ref")
                return self.refs(x)
            if tag == "$node":
                if self.objects is None or type(x) is not int or not 0 <= x < len(self.objects):
                    raise ValueError("unexpected $node")
                return self.objects[x]
            if type(x) is not list:
                raise ValueError(f"{tag} needs a list")
            if tag == "$graph":
                return self.graph(x, d)
            if tag == "$tuple":
                return tuple(self.sequence([self.value(y, d) for y in x]))
            if tag == "$set" or tag == "$frozenset":
                items = self.hashables([self.value(y, d) for y in x])
                return set(items) if tag == "$set" else frozenset(items)
            if tag == "$complex":
                if len(x) != 2:
                    raise ValueError("$complex needs [real, imag]")
                return complex(self.value(x[0], d), self.value(x[1], d))
            pairs = []  # $dict
            for kv in x:
                if type(kv) is not list or len(kv) != 2:
                    raise ValueError("$dict needs [key, value] pairs")
                pairs.append((self.value(kv[0], d), self.value(kv[1], d)))
            return self.mapping(pairs)

        def graph(self, x, d):  # type: ignore[no-untyped-def]
            if self.classes is None or self.objects is not None or d != 1:
                raise ValueError("unexpected $graph")
            if len(x) != 2 or type(x[1]) is not list:
                raise ValueError("$graph needs [value, nodes]")
            nodes = x[1]
            self.nodes += len(nodes)
            objects = []
            for node in nodes:
                if type(node) is not list or len(node) != 2 or type(node[0]) is not str or type(node[1]) is not Pairs:
                    raise ValueError("$graph nodes are [class name, {attribute: value}]")
                objects.append(new_object(self.classes(node[0])))
            self.objects = objects
            for obj, (_, attrs) in zip(objects, nodes):
                state = attribute(obj, "__dict__")
                for k, v in attrs:
                    state[k] = self.value(v, d)
            return self.value(x[0], d)

        def sequence(self, items):  # type: ignore[no-untyped-def]
            _check_collisions(items)
            return items

        def hashables(self, items):  # type: ignore[no-untyped-def]
            for x in items:
                hash(x)  # unhashable: malformed (TypeError)
            _check_collisions(items)
            return items

        def mapping(self, pairs):  # type: ignore[no-untyped-def]
            _check_collisions([k for k, _ in pairs])
            return dict(pairs)

    unhashable = {id(list), id(dict), id(set)}

    def _check_collisions(items):  # type: ignore[no-untyped-def]
        """Reject more than MAX_COLLISIONS distinct values sharing one hash value.

        Equal hashes of unequal values (not merely equal table slots: CPython's probing separates
        distinct hashes within a few steps) are what makes building a set or dict of them
        quadratic: crafted ints (n * (2**61 - 1)) take minutes at a few hundred thousand. Lists
        and tuples are checked too, since the tests and comparisons may turn them into sets
        (``set(out) == set(exp)``). Linear: the hash values are ints, whose hash is themselves;
        only groups of equal hashes are compared, against at most MAX_COLLISIONS distinct values.
        """
        if len(items) <= MAX_COLLISIONS:
            return
        try:
            values, hashes = items, list(map(hash, items))
        except TypeError:  # lists, dicts, sets, tuples holding them: never set elements
            values, hashes = [], []
            for x in items:
                if id(type(x)) in unhashable:
                    continue
                try:
                    h = hash(x)
                except TypeError:
                    continue
                values.append(x)
                hashes.append(h)
        if len(set(hashes)) == len(hashes):
            return
        groups = {}
        for x, h in zip(values, hashes):
            g = groups.get(h)
            if g is None:
                groups[h] = [x]
            elif len(g) <= MAX_COLLISIONS and not any(x == y for y in g):
                g.append(x)  # keeps only distinct values, at most MAX_COLLISIONS + 1
                if len(g) > MAX_COLLISIONS:
                    raise ValueError(f"more than {MAX_COLLISIONS} distinct values share one hash value "
                                     "(crafted collisions)")

    return encode, encode_objects, dumps, decode, loads


encode, encode_objects, dumps, decode, loads = _builders()

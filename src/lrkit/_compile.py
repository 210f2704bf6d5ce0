"""One schedule, one number: a formula compiled to a small Python function of a float.

A schedule's formula is written once against an ``Ops`` namespace (:mod:`lrkit._ops`). Run on
:class:`Tracer`, whose time is a placeholder (:class:`Sym`), the formula records each operation
it does on the time instead of doing it; the operations become the body of one Python function,
compiled once per schedule (``Schedule`` caches it on the immutable value). That function does
what :class:`~lrkit._ops.MathOps` does, operation for operation on the same operands: the same
value bit for bit, and the same errors, without the generic path's method calls.

- Arithmetic on parameters alone is done while tracing, as the generic path does it per call.
- ``where``, ``minimum``, ``maximum`` and ``clip`` become conditional expressions over values
  already computed (``MathOps`` computes both branches too, so the same operations can raise).
- A formula that branches in Python on the time (``Join`` finds its phase with ``bisect``) is
  traced once per way through its branches; the function branches the same way.
- An equal operation on equal operands is done once; ``x * 1.0``, ``x / 1.0``, ``x - 0.0``,
  ``x ** 1.0`` are ``x`` and ``1.0 ** x`` is ``1.0`` (exactly, for every float ``x``).
- Anything else a formula does with the time (``float(t)``, a NumPy function, too many
  branches) stops the compilation, and the schedule keeps the generic path.

This is not ``eval`` of input: lrkit generates the source from its own formulas (only lrkit's
classes are compiled, see ``Schedule._compilable``), out of operators, names it makes itself
(``x``, ``v0``, ``v1``, ...) and ``repr()`` of numbers checked to be exactly ``int`` or
``float``. No text a user gave (a name, a string argument) reaches it, and it runs without
builtins.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from lrkit._ops import MATH, Array, Ops

#: Ways through a formula's Python branches, and operations on one way, beyond which a
#: schedule keeps the generic path (a sum of many joins branches a lot).
MAX_PATHS = 64
MAX_LINES = 4000

Formula = Callable[[Array, Ops], Array]


class Event:
    """One line of a traced way: ``let`` a name, branch (``if``) on one, or ``return``.

    (A plain class, not a dataclass: ``import lrkit`` stays light.)
    """

    __slots__ = ("kind", "name", "pure", "taken", "text", "uses")

    def __init__(
        self,
        kind: str,
        text: str,
        uses: tuple[str, ...],
        *,
        taken: bool = False,
        name: str = "",
        pure: bool = False,
    ) -> None:
        self.kind = kind
        self.text = text  # "v1 * 2.0" (for ``name``) | the condition's name | the value returned
        self.uses = uses  # the names it reads
        self.taken = taken  # which way an ``if`` went
        self.name = name  # the name a ``let`` gives
        self.pure = pure  # a ``let`` that cannot raise: left out when nothing reads it


class UntraceableError(Exception):
    """The formula does something with the time that the tracer cannot follow."""


def not_finite(t: float) -> float:
    # An int too large for a float is echoed by its size: its digits could be thousands.
    bits = t.bit_length() if isinstance(t, int) else 0
    shown = f"<an int of {bits} bits>" if bits > 128 else repr(t)
    raise ValueError(f"A schedule takes a finite time `t`. Received: t={shown}")


def literal(value: Any) -> str:
    """Python source for a number: its ``repr`` (which reads back exactly), or a name bound
    to it where it has no literal. Nothing but an exact ``int`` or ``float`` is written."""
    if type(value) is float:
        if math.isnan(value):
            return "_nan"
        if math.isinf(value):
            return "_inf" if value > 0 else "(-_inf)"
    elif type(value) is not int:
        raise UntraceableError(f"a constant of type {type(value).__name__}")
    text = repr(value)
    return f"({text})" if text.startswith("-") else text


class Sym:
    """A value of the traced formula: a name in the generated function.

    ``is_float``: the value is a Python float whenever the function runs (so returning it
    needs no ``float()``); not so after a ``**`` that may give a complex number, or a choice
    between an int and a float. ``ints``: the whole numbers it may be that ``MathOps`` holds
    as an ``int`` (``minimum(t, 100)`` may be ``100``), where the function may hold them as
    floats (see ``_Trace.convert``).
    """

    __slots__ = ("ints", "is_float", "name", "trace")
    __array_ufunc__ = None  # NumPy operands defer to these methods, which then refuse them

    def __init__(
        self, trace: _Trace, name: str, is_float: bool, ints: frozenset[int] = frozenset()
    ) -> None:
        self.trace = trace
        self.name = name
        self.is_float = is_float
        self.ints = ints

    def __add__(self, other: Any) -> Any:
        return self.trace.binary("+", self, other)

    def __radd__(self, other: Any) -> Any:
        return self.trace.binary("+", other, self)

    def __sub__(self, other: Any) -> Any:
        return self.trace.binary("-", self, other)

    def __rsub__(self, other: Any) -> Any:
        return self.trace.binary("-", other, self)

    def __mul__(self, other: Any) -> Any:
        return self.trace.binary("*", self, other)

    def __rmul__(self, other: Any) -> Any:
        return self.trace.binary("*", other, self)

    def __truediv__(self, other: Any) -> Any:
        return self.trace.binary("/", self, other)

    def __rtruediv__(self, other: Any) -> Any:
        return self.trace.binary("/", other, self)

    def __pow__(self, other: Any) -> Any:
        return self.trace.binary("**", self, other)

    def __rpow__(self, other: Any) -> Any:
        return self.trace.binary("**", other, self)

    def __neg__(self) -> Sym:
        return self.trace.let(
            f"-{self.name}",
            self.is_float,
            self,
            pure=self.is_float,
            ints=frozenset(-n for n in self.ints),
        )

    def __lt__(self, other: Any) -> Sym:
        return self.trace.compare("<", self, other)

    def __le__(self, other: Any) -> Sym:
        return self.trace.compare("<=", self, other)

    def __gt__(self, other: Any) -> Sym:
        return self.trace.compare(">", self, other)

    def __ge__(self, other: Any) -> Sym:
        return self.trace.compare(">=", self, other)

    def __eq__(self, other: Any) -> Sym:  # type: ignore[override]
        return self.trace.compare("==", self, other)

    def __ne__(self, other: Any) -> Sym:  # type: ignore[override]
        return self.trace.compare("!=", self, other)

    __hash__ = None  # type: ignore[assignment]

    def __bool__(self) -> bool:
        return self.trace.decide(self)

    def __float__(self) -> float:
        raise UntraceableError("float() of the time")

    def __index__(self) -> int:
        raise UntraceableError("the time used as an index")


def _is_float(value: Any) -> bool:
    return value.is_float if isinstance(value, Sym) else type(value) is float


def _plain(value: Any) -> bool:
    """A float or an int: ``+ - *`` and comparisons on it cannot raise."""
    return _is_float(value) or type(value) is int


def _ints(value: Any) -> frozenset[int]:
    """The ints that ``value`` (an ``int`` constant, or a value that may be one under
    ``MathOps``) may be."""
    if type(value) is int:
        return frozenset((value,))
    return value.ints if isinstance(value, Sym) else frozenset()


def _neutral(op: str, value: Any) -> bool:
    """``x op value == x`` exactly for every float ``x`` (signed zeros included)."""
    if type(value) is not float:
        return False
    if op in ("*", "/", "**"):
        return value == 1.0
    return op == "-" and value == 0.0 and math.copysign(1.0, value) > 0


def _whole_results(op: str, a: frozenset[int], b: frozenset[int]) -> frozenset[int]:
    """The ints ``a op b`` may be when both operands are whole; refused unless float
    arithmetic on them gives exactly those (results of at most 53 bits, few of them)."""
    if not a or not b or op == "/":  # int / int is float division, correctly rounded as it
        return frozenset()
    if op == "**" or len(a) * len(b) > 64:
        raise UntraceableError("powers of whole numbers")
    table = {"+": int.__add__, "-": int.__sub__, "*": int.__mul__}
    out = frozenset(table[op](x, y) for x in a for y in b)
    if any(abs(n) > 2**53 for n in out):
        raise UntraceableError("whole numbers beyond 53 bits")
    return out


class _Trace:
    """One run of a formula along one way through its branches (``decisions``)."""

    def __init__(self, decisions: list[bool]) -> None:
        self.decisions = decisions
        self.taken: list[bool] = []
        self.events: list[Event] = []
        self.known: dict[str, Sym] = {}
        self.facts: dict[str, bool] = {}  # conditions branched on so far, and which way
        self.x = Sym(self, "x", True)

    def ref(self, value: Any) -> str:
        if isinstance(value, Sym):
            if value.trace is not self:  # kept from another run: the formula has state
                raise UntraceableError("a value from another trace")
            return value.name
        return literal(value)

    def let(
        self,
        expression: str,
        is_float: bool,
        *operands: Any,
        pure: bool,
        ints: frozenset[int] = frozenset(),
    ) -> Sym:
        """A name for ``expression`` (of ``operands``); the one already given if it was
        computed on this way. ``pure``: it cannot raise, so it may be left out or moved."""
        sym = self.known.get(expression)
        if sym is None:
            if len(self.events) >= MAX_LINES:
                raise UntraceableError("too many operations")
            uses = tuple(o.name for o in operands if isinstance(o, Sym))
            sym = Sym(self, f"v{len(self.known)}", is_float, ints)
            self.known[expression] = sym
            self.events.append(Event("let", expression, uses, name=sym.name, pure=pure))
        return sym

    @staticmethod
    def convert(value: Any, other: Any) -> Any:
        """An ``int`` constant met by a float as the float Python converts it to.

        Python computes ``float op int`` (and compares, and chooses between them) as if the
        int were that float, exactly when the int has at most 53 bits: the same values, and
        float-float operations are faster. Only ``int op int`` arithmetic could differ:
        :meth:`binary` follows the ints a value may be, and refuses a result beyond 53 bits.
        """
        if type(value) is int and abs(value) <= 2**53 and _is_float(other):
            return float(value)
        return value

    def binary(self, op: str, a: Any, b: Any) -> Any:
        ints = _whole_results(op, _ints(a), _ints(b))
        a, b = self.convert(a, b), self.convert(b, a)
        sa, sb = self.ref(a), self.ref(b)  # refuses a constant that is not an int or a float
        if _is_float(a) and _neutral(op, b):
            return a  # x * 1.0, x / 1.0, x ** 1.0, x - 0.0: exactly x, for every float x
        if op == "*" and _is_float(b) and _neutral(op, a):
            return b
        if op == "**" and _is_float(b) and type(a) is float and a == 1.0:
            return 1.0  # Python's 1.0 ** y is 1.0 for every float y
        if op == "**":  # a negative base to a fractional power is complex in Python
            is_float = (
                _is_float(a) and type(b) in (int, float) and float(b).is_integer()
                if isinstance(a, Sym)
                else a >= 0 and _is_float(b)
            )
        else:
            is_float = (_is_float(a) or type(a) is int) and (_is_float(b) or type(b) is int)
        pure = op in ("+", "-", "*") and _plain(a) and _plain(b)
        return self.let(f"{sa} {op} {sb}", is_float, a, b, pure=pure, ints=ints)

    def compare(self, op: str, a: Any, b: Any) -> Sym:
        a, b = self.convert(a, b), self.convert(b, a)
        pure = _plain(a) and _plain(b)  # a complex number would raise TypeError
        return self.let(f"{self.ref(a)} {op} {self.ref(b)}", False, a, b, pure=pure)

    def select(self, cond: Any, a: Any, b: Any) -> Any:
        if isinstance(cond, Sym) and cond.name in self.facts:  # decided earlier on this way
            cond = self.facts[cond.name]
        if not isinstance(cond, Sym):
            return a if cond else b
        ints = _ints(a) | _ints(b)
        a, b = self.convert(a, b), self.convert(b, a)
        expression = f"{self.ref(a)} if {self.ref(cond)} else {self.ref(b)}"
        return self.let(expression, _is_float(a) and _is_float(b), cond, a, b, pure=True, ints=ints)

    def call(self, function: str, x: Any) -> Any:
        if not isinstance(x, Sym):
            return getattr(MATH, function)(x)
        if function in ("floor", "ceil"):  # as MathOps: a float, not math's int
            return self.let(f"float({function}({self.ref(x)}))", True, x, pure=False)
        return self.let(f"{function}({self.ref(x)})", True, x, pure=False)

    def decide(self, cond: Sym) -> bool:
        """The formula branches on ``cond``: follow this run's way, False where it has none."""
        if self.ref(cond) in self.facts:  # branched on before: the same way again
            return self.facts[cond.name]
        k = len(self.taken)
        if k >= MAX_LINES:
            raise UntraceableError("too many branches")
        taken = self.decisions[k] if k < len(self.decisions) else False
        self.taken.append(taken)
        self.facts[self.ref(cond)] = taken
        self.events.append(Event("if", cond.name, (cond.name,), taken=taken))
        return taken

    def finish(self, result: Any) -> list[Event]:
        if isinstance(result, Sym):
            value = self.ref(result)
            text = value if result.is_float else f"float({value})"
            self.events.append(Event("return", text, (value,)))
        elif type(result) in (int, float):
            self.events.append(Event("return", literal(float(result)), ()))
        else:
            raise UntraceableError(f"a result of type {type(result).__name__}")
        return self.events


class Tracer(Ops):
    """The namespace a formula is traced with: :class:`~lrkit._ops.MathOps`' operations,
    recorded on :class:`Sym` values and done at once on plain numbers."""

    scalar = True
    trace: _Trace

    def __init__(self, trace: _Trace) -> None:
        super().__init__(float)
        object.__setattr__(self, "trace", trace)

    def exp(self, x: Array) -> Array:
        return self.trace.call("exp", x)

    def expm1(self, x: Array) -> Array:
        return self.trace.call("expm1", x)

    def log(self, x: Array) -> Array:
        return self.trace.call("log", x)

    def cos(self, x: Array) -> Array:
        return self.trace.call("cos", x)

    def sqrt(self, x: Array) -> Array:
        return self.trace.call("sqrt", x)

    def tanh(self, x: Array) -> Array:
        return self.trace.call("tanh", x)

    def floor(self, x: Array) -> Array:
        return self.trace.call("floor", x)

    def ceil(self, x: Array) -> Array:
        return self.trace.call("ceil", x)

    def full_like(self, x: Array, value: float) -> Array:
        return float(value)

    def where(self, cond: Array, a: Array, b: Array) -> Array:
        return self.trace.select(cond, a, b)

    def minimum(self, a: Array, b: Array | float) -> Array:
        if not isinstance(a, Sym) and not isinstance(b, Sym):
            return MATH.minimum(a, b)
        return self.trace.select(self.trace.compare("<", a, b), a, b)

    def maximum(self, a: Array, b: Array | float) -> Array:
        if not isinstance(a, Sym) and not isinstance(b, Sym):
            return MATH.maximum(a, b)
        return self.trace.select(self.trace.compare(">", a, b), a, b)

    def clip(self, x: Array, lo: float, hi: float) -> Array:
        if not isinstance(x, Sym):
            return MATH.clip(x, lo, hi)
        below, above = self.trace.compare("<", x, lo), self.trace.compare(">", x, hi)
        return self.trace.select(below, lo, self.trace.select(above, hi, x))


def _ways(formula: Formula) -> list[list[Event]]:
    """The events of every way through the formula's branches (depth first)."""
    ways: list[list[Event]] = []
    pending: list[list[bool]] = [[]]
    while pending:
        decisions = pending.pop()
        trace = _Trace(decisions)
        events = trace.finish(formula(trace.x, Tracer(trace)))
        ways.append(events)
        if len(ways) > MAX_PATHS:
            raise UntraceableError("too many ways through the branches")
        for k in range(len(decisions), len(trace.taken)):
            pending.append([*trace.taken[:k], True])
    return ways


def _needed(events: list[Event]) -> list[bool]:
    """Which events of one way must run: all but a pure ``let`` that nothing later reads."""
    read: set[str] = set()
    out = [True] * len(events)
    for i in range(len(events) - 1, -1, -1):
        e = events[i]
        if e.kind == "let" and e.pure and e.name not in read:
            out[i] = False
        else:
            read.update(e.uses)
    return out


class Branch:
    """``if cond:`` the statements of one side, ``else:`` those of the other."""

    __slots__ = ("cond", "no", "yes")

    def __init__(self, cond: str, yes: list[Event | Branch], no: list[Event | Branch]) -> None:
        self.cond = cond
        self.yes = yes
        self.no = no


def _tree(ways: list[list[Event]], needed: list[list[bool]], start: int) -> list[Event | Branch]:
    """The statements of ``ways``, which agree up to ``start``: their shared operations
    (those some way needs), then a branch on their first decision, each side made the same
    way."""
    first, i, out = ways[0], start, []
    while first[i].kind == "let":
        if any(n[i] for n in needed):
            out.append(first[i])
        i += 1
    if first[i].kind == "return":
        return [*out, first[i]]
    sides = [[k for k, w in enumerate(ways) if w[i].taken is taken] for taken in (True, False)]
    yes, no = (_tree([ways[k] for k in s], [needed[k] for k in s], i + 1) for s in sides)
    return [*out, Branch(first[i].text, yes, no)]


def _reads(statements: list[Event | Branch], name: str) -> int:
    n = 0
    for s in statements:
        if isinstance(s, Branch):
            n += (s.cond == name) + _reads(s.yes, name) + _reads(s.no, name)
        else:
            n += s.uses.count(name)
    return n


_NAME = re.compile(r"\bv\d+\b")
#: Nesting of one expression, beyond which its parts are given names again (Python's
#: parser takes 200 parentheses).
MAX_NESTING = 32


def _render(
    statements: list[Event | Branch],
    indent: str,
    inline: dict[str, tuple[str, int]] | None,
    out: list[str],
) -> None:
    """Write ``statements``. A pure operation read once is written where it is read, inside
    parentheses (it cannot raise, so where and whether it runs changes nothing), which
    saves Python a store and a load per operation. ``inline=None``: no inlining."""

    def expand(text: str) -> tuple[str, int]:
        depth = 0

        def put(match: re.Match[str]) -> str:
            nonlocal depth
            if inline is None or match[0] not in inline:
                return match[0]
            expression, nesting = inline[match[0]]
            depth = max(depth, nesting + 1)
            return f"({expression})"

        return _NAME.sub(put, text), depth

    for k, s in enumerate(statements):
        if isinstance(s, Branch):
            cond = inline[s.cond][0] if inline and s.cond in inline else s.cond
            out.append(f"{indent}if {cond}:")
            _render(s.yes, indent + "    ", None if inline is None else dict(inline), out)
            out.append(f"{indent}else:")
            _render(s.no, indent + "    ", None if inline is None else dict(inline), out)
        elif s.kind == "let":
            expression, depth = expand(s.text)
            if (
                inline is not None
                and s.pure
                and depth < MAX_NESTING
                and _reads(statements[k + 1 :], s.name) == 1
            ):
                inline[s.name] = (expression, depth)
            else:
                out.append(f"{indent}{s.name} = {expression}")
        else:
            out.append(f"{indent}return {expand(s.text)[0]}")


def _size(statements: list[Event | Branch]) -> int:
    return sum(_size(s.yes) + _size(s.no) if isinstance(s, Branch) else 1 for s in statements)


_NAMES = ("_fallback", "_not_finite", "_inf", "_nan", "_errors", "float",
          "exp", "expm1", "log", "cos", "sqrt", "tanh", "floor", "ceil")  # fmt: skip


def source(formula: Formula) -> str | None:
    """The Python source of ``formula`` as a function of one float, or ``None`` when it
    cannot be traced. ``make(...)`` (the names of ``_NAMES``) returns that function."""
    try:
        ways = _ways(formula)
    except Exception:  # whatever stops the tracer, the generic path remains
        return None
    tree = _tree(ways, [_needed(w) for w in ways], 0)
    body: list[str] = []
    # Inlining looks ahead for the reads of each name: only for functions of a usual size.
    _render(tree, " " * 12, {} if _size(tree) <= 1000 else None, body)
    if len(body) > MAX_LINES:
        return None
    return "\n".join(
        [
            f"def make({', '.join(_NAMES)}):",
            "    def scalar(t):",
            "        try:",
            "            x = t + 0.0",  # float(t), exactly, for an int t
            "        except _errors:",  # an int beyond any float (OverflowError)
            "            return _not_finite(t)",
            "        if not -_inf < x < _inf:",
            "            return _not_finite(t)",
            "        if not x > 0.0:",
            "            x = 0.0",
            "        try:",
            *body,
            "        except _errors:",
            "            return _fallback(t)",
            "    return scalar",
            "",
        ]
    )


def scalar_function(
    formula: Formula, fallback: Callable[[float], float]
) -> Callable[[float], float] | None:
    """``formula`` compiled for one Python float or int ``t``: checks ``t`` is finite, holds it
    at 0 below 0, and calls ``fallback(t)`` where an operation raises ``ArithmeticError`` or
    ``ValueError`` (as the generic path does). ``None`` when it cannot be compiled."""
    text = source(formula)
    if text is None:
        return None
    namespace: dict[str, Any] = {"__builtins__": {}}
    try:  # lrkit's own source, made of nothing a user wrote (see the module's docstring)
        exec(compile(text, "<lrkit compiled schedule>", "exec"), namespace)
    except (SyntaxError, RecursionError, MemoryError):  # too deeply nested for Python
        return None
    made: Callable[[float], float] = namespace["make"](
        fallback, not_finite, math.inf, math.nan, (ArithmeticError, ValueError), float,
        math.exp, math.expm1, math.log, math.cos, math.sqrt, math.tanh, math.floor, math.ceil,
    )  # fmt: skip
    return made

r"""The text form of a schedule, and :func:`parse`, which reads it back safely.

``str(schedule)`` (and ``repr``, ``schedule.spec()``) writes ``name(arg=value, ...)``;
:func:`parse` turns that text back into an equal schedule. The grammar is small:

- a **call** ``name(...)`` of a name in :data:`lrkit.REGISTRY`, with positional arguments
  (in the order of the constructor) and/or keyword arguments ``arg=value``;
- **literals**: numbers (``0.1``, ``-3``, ``1e-05``, ``10_000``, ``inf``, ``nan``), strings
  in single or double quotes, ``True``, ``False``, ``None``, lists ``[a, b, ...]``;
- **operators**, as in Python and with Python's precedence: ``a * 0.5`` (scale),
  ``a * b`` (product), ``a + b`` and ``a + 0.01`` (sum), ``a >> b`` (``b`` after ``a``);
  parentheses group.

Nothing else: no attribute access, no other names, no arithmetic between plain numbers. The
parser is a hand-written tokenizer and recursive-descent parser; it never calls ``eval``,
``exec`` or ``ast``. Input is limited to :data:`MAX_LENGTH` characters and :data:`MAX_DEPTH`
levels of nesting. Every problem, including a bad argument value, raises :class:`SpecError`
with the position and what was expected.

>>> s = lrkit.parse("warmup(cosine(start_lr=0.1, decay_steps=90), steps=10)")
>>> s(10)
0.1
>>> lrkit.parse(str(s)) == s
True
>>> s = lrkit.parse("linear(0.0, 5, end_lr=0.1) >> cosine(0.1, 95)")
>>> s.name, s.boundaries, s(5)
('join', (5,), 0.1)
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterator
from typing import Any

from lrkit._core import ALIASES, REGISTRY, Schedule, lookup
from lrkit.compose import sequence

__all__ = ["MAX_DEPTH", "MAX_LENGTH", "SpecError", "parse", "python_source"]

#: Longest text :func:`parse` reads, in characters (a realistic spec is under 500).
MAX_LENGTH = 10_000
#: Deepest nesting :func:`parse` accepts: brackets in the text, and schedules in schedules.
MAX_DEPTH = 32

_CONSTANTS: dict[str, Any] = {
    "None": None,
    "True": True,
    "False": False,
    "inf": math.inf,
    "nan": math.nan,
}
_OPERATORS = (">>", "(", ")", "[", "]", ",", "=", "+", "*", "-")
_NUMBER = re.compile(
    r"(?:[0-9](?:_?[0-9])*(?:\.(?:[0-9](?:_?[0-9])*)?)?|\.[0-9](?:_?[0-9])*)"
    r"(?:[eE][+-]?[0-9]+)?",
    re.ASCII,
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t"}


class SpecError(ValueError):
    """A text form that :func:`parse` cannot read: what was expected, and where.

    ``position`` is the 0-based offset in ``text`` (``None`` when it is not about one place);
    ``str(error)`` is one line that ends with the line and column. :attr:`pointer` shows the
    place with a caret.

    >>> try:
    ...     lrkit.parse("cosine(0.1, 10")
    ... except lrkit.SpecError as e:
    ...     print(e)
    ...     print(e.pointer)
    expected ',' or ')' after an argument of cosine(), found the end of the text (column 15)
    cosine(0.1, 10
                  ^
    """

    def __init__(self, message: str, text: str = "", position: int | None = None) -> None:
        self.message = message
        self.text = text
        self.position = position
        super().__init__(message + self._where())

    def _line_col(self) -> tuple[int, int]:
        assert self.position is not None
        before = self.text[: self.position]
        return before.count("\n") + 1, self.position - (before.rfind("\n") + 1) + 1

    def _where(self) -> str:
        if self.position is None:
            return ""
        line, col = self._line_col()
        if "\n" in self.text:
            return f" (line {line}, column {col})"
        return f" (column {col})"

    @property
    def pointer(self) -> str:
        """The offending line of the text (at most 80 characters of it) and a caret below."""
        if self.position is None:
            return ""
        line, col = self._line_col()
        source = self.text.split("\n")[line - 1]
        start = max(0, col - 60)
        return source[start : start + 80] + "\n" + " " * (col - 1 - start) + "^"


@dataclasses.dataclass(frozen=True)
class _Token:
    kind: str  # "name", "number", "string", "op" or "end"
    value: Any
    position: int
    text: str

    def describe(self) -> str:
        if self.kind == "end":
            return "the end of the text"
        if self.kind == "string":
            return "a string"
        if self.kind == "op":
            return repr(self.text)
        return f"{self.kind} {self.text[:40]!r}"


@dataclasses.dataclass(frozen=True)
class _Node:
    """A parsed value, where it starts, and how deeply schedules nest inside it."""

    value: Any
    position: int
    depth: int = 0


def parse(text: str) -> Schedule:
    """The schedule that ``text`` describes (the inverse of ``str(schedule)``).

    Accepts calls of catalogue names with positional and keyword arguments, literal numbers,
    strings, lists, ``True``/``False``/``None``, and the operators ``>>``, ``+`` and ``*``
    (see the module documentation). Raises :class:`SpecError` for anything else.

    Examples:
        >>> lrkit.parse("cosine(start_lr=0.1, decay_steps=100)")(50)
        0.05
        >>> lrkit.parse("multistep(0.1, milestones=[30, 80]) * 0.5")(0)
        0.05
        >>> try:
        ...     lrkit.parse("cosine(0.1, decay_steps=0)")
        ... except lrkit.SpecError as e:
        ...     print(e.message)
        ...     print(e.pointer)
        cosine(): Argument `decay_steps` must be > 0. Received: decay_steps=0
        cosine(0.1, decay_steps=0)
                    ^
    """
    if not isinstance(text, str):
        raise SpecError(f"a schedule's text form must be a str, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise SpecError(
            f"the text is {len(text)} characters long; the limit is {MAX_LENGTH} "
            "(save long schedules as JSON or YAML configs instead)"
        )
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        # Tokens are read as the parser goes, so the first error in reading order is reported.
        self.stream = _tokenize(text)
        self.tokens: list[_Token] = []
        self.index = 0
        self.depth = 0

    # -- helpers -------------------------------------------------------------------------

    def error(self, message: str, position: int | None) -> SpecError:
        return SpecError(message, self.text, position)

    def peek(self, ahead: int = 0) -> _Token:
        while len(self.tokens) <= self.index + ahead:
            if self.tokens and self.tokens[-1].kind == "end":
                return self.tokens[-1]
            self.tokens.append(next(self.stream))
        return self.tokens[self.index + ahead]

    def take(self) -> _Token:
        token = self.peek()
        if token.kind != "end":
            self.index += 1
        return token

    def at(self, op: str) -> bool:
        token = self.peek()
        return token.kind == "op" and token.text == op

    def expect(self, op: str, expected: str) -> _Token:
        token = self.peek()
        if not self.at(op):
            raise self.error(f"expected {expected}, found {token.describe()}", token.position)
        return self.take()

    def enter(self, position: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"nested more than {MAX_DEPTH} levels deep", position)

    def node(self, value: Any, position: int, depth: int, where: int | None = None) -> _Node:
        """A schedule built at ``position`` (by the operator at ``where``, if any)."""
        if depth > MAX_DEPTH:
            raise self.error(
                f"schedules nested more than {MAX_DEPTH} levels deep",
                position if where is None else where,
            )
        return _Node(value, position, depth)

    # -- grammar -------------------------------------------------------------------------

    def parse(self) -> Schedule:
        result = self.expression()
        token = self.peek()
        if token.kind != "end":
            raise self.error(
                f"expected an operator ('>>', '+' or '*') or the end of the text, "
                f"found {token.describe()}",
                token.position,
            )
        if not isinstance(result.value, Schedule):
            raise self.error(
                "expected a schedule such as cosine(start_lr=0.1, decay_steps=100), "
                f"found {_kind(result.value)}",
                result.position,
            )
        return result.value

    def expression(self) -> _Node:
        """``additive ('>>' additive)*``: one call of ``sequence`` for the whole chain."""
        first = self.additive()
        if not self.at(">>"):
            return first
        parts = [first]
        operator = self.peek()
        while self.at(">>"):
            self.take()
            parts.append(self.additive())
        for part in parts:
            if not isinstance(part.value, Schedule):
                raise self.error(
                    f"expected a schedule on each side of '>>', found {_kind(part.value)}",
                    part.position,
                )
        try:
            value = sequence(*(p.value for p in parts))
        except Exception as e:  # a phase with no end of its own, ...
            raise self.error(_message(e), operator.position) from None
        return self.node(value, first.position, 1 + max(p.depth for p in parts), operator.position)

    def additive(self) -> _Node:
        left = self.term()
        while self.at("+"):
            op = self.take()
            left = self.combine(left, op, self.term())
        return left

    def term(self) -> _Node:
        left = self.atom()
        while self.at("*"):
            op = self.take()
            left = self.combine(left, op, self.atom())
        return left

    def combine(self, left: _Node, op: _Token, right: _Node) -> _Node:
        a, b = left.value, right.value
        operands_ok = (isinstance(a, Schedule) or _is_number(a)) and (
            isinstance(b, Schedule) or _is_number(b)
        )
        if not operands_ok or not (isinstance(a, Schedule) or isinstance(b, Schedule)):
            raise self.error(
                f"expected a schedule on one side of {op.text!r} and a schedule or a number "
                f"on the other, found {_kind(a)} and {_kind(b)}",
                op.position,
            )
        try:
            value = a + b if op.text == "+" else a * b
        except Exception as e:  # a negative scale factor, ...
            raise self.error(_message(e), op.position) from None
        return self.node(value, left.position, 1 + max(left.depth, right.depth), op.position)

    def atom(self) -> _Node:
        token = self.take()
        if token.kind in ("number", "string"):
            return _Node(token.value, token.position)
        if token.kind == "op" and token.text == "-":
            number = self.take()
            if number.kind == "number" or (number.kind == "name" and number.text in ("inf", "nan")):
                value = number.value if number.kind == "number" else _CONSTANTS[number.text]
                return _Node(-value, token.position)
            raise self.error(
                f"expected a number after '-', found {number.describe()}", number.position
            )
        if token.kind == "op" and token.text == "(":
            self.enter(token.position)
            inner = self.expression()
            self.expect(")", "')' to close the '(' at column " + str(token.position + 1))
            self.depth -= 1
            return _Node(inner.value, token.position, inner.depth)
        if token.kind == "op" and token.text == "[":
            return self.list_(token)
        if token.kind == "name":
            if token.text in _CONSTANTS:
                return _Node(_CONSTANTS[token.text], token.position)
            return self.call(token)
        raise self.error(
            f"expected a schedule, a number, a string, a list, True, False or None, "
            f"found {token.describe()}",
            token.position,
        )

    def list_(self, opening: _Token) -> _Node:
        self.enter(opening.position)
        items: list[_Node] = []
        while not self.at("]"):
            items.append(self.expression())
            if not self.at(","):
                break
            self.take()
        self.expect("]", "',' or ']' in the list")
        self.depth -= 1
        depth = max((item.depth for item in items), default=0)
        return _Node([item.value for item in items], opening.position, depth)

    def call(self, name: _Token) -> _Node:
        known = name.text in REGISTRY or name.text in ALIASES
        cls = lookup(name.text) if known else None
        if cls is None:
            after = self.text[name.position + len(name.text) :].lstrip()
            raise self.error(_unknown_name(name.text, after.startswith(".")), name.position)
        if not self.at("("):
            raise self.error(
                f"expected '(' after {name.text} (a schedule is written {name.text}(...)), "
                f"found {self.peek().describe()}",
                self.peek().position,
            )
        opening = self.take()
        self.enter(opening.position)
        fields = [f for f in dataclasses.fields(cls) if f.init]
        names = [f.name for f in fields]
        positional = [f.name for f in fields if not f.kw_only]
        kwargs: dict[str, _Node] = {}
        where: dict[str, int] = {}
        keyword_seen = False
        while not self.at(")"):
            token = self.peek()
            is_keyword = token.kind == "name" and self.peek(1).text == "="
            if is_keyword:
                self.take()
                self.take()
                if token.text not in names:
                    raise self.error(
                        f"{name.text}() has no argument {token.text!r}; "
                        f"its arguments are {', '.join(names)}",
                        token.position,
                    )
                if token.text in kwargs:
                    raise self.error(
                        f"argument {token.text!r} of {name.text}() is given twice", token.position
                    )
                keyword_seen = True
                arg = token.text
            else:
                if keyword_seen:
                    raise self.error(
                        f"expected a keyword argument (name=value) in {name.text}(): "
                        "a positional argument cannot follow a keyword argument",
                        token.position,
                    )
                if len(kwargs) >= len(positional):
                    raise self.error(
                        f"{name.text}() takes at most {len(positional)} positional arguments "
                        f"({', '.join(positional)}); give the others by name",
                        token.position,
                    )
                arg = positional[len(kwargs)]
            where[arg] = token.position
            kwargs[arg] = self.expression()
            if not self.at(","):
                break
            self.take()
        self.expect(")", f"',' or ')' after an argument of {name.text}()")
        self.depth -= 1
        missing = [
            f.name
            for f in fields
            if f.name not in kwargs
            and f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
        ]
        if missing:
            raise self.error(
                f"{name.text}() needs the argument(s) {', '.join(missing)}; "
                f"its arguments are {', '.join(names)}",
                name.position,
            )
        try:
            value = cls(**{k: n.value for k, n in kwargs.items()})
        except Exception as e:  # any failure of the constructor is a bad value in the text
            message = _message(e)
            named = re.search(r"`(\w+)`", message)
            position = where.get(named.group(1), name.position) if named else name.position
            raise self.error(f"{name.text}(): {message}", position) from None
        depth = 1 + max((n.depth for n in kwargs.values()), default=0)
        return self.node(value, name.position, depth)


def _tokenize(text: str) -> Iterator[_Token]:
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in " \t\r\n":
            i += 1
            continue
        name = _NAME.match(text, i)
        if name:
            yield _Token("name", name.group(), i, name.group())
            i = name.end()
            continue
        number = _NUMBER.match(text, i)
        if number:
            end = number.end()
            if end < n and (text[end].isalnum() or text[end] in "._"):
                raise SpecError(f"expected a number, found {text[i : end + 1][:40]!r}", text, i)
            yield _Token("number", _number(number.group(), text, i), i, number.group())
            i = end
            continue
        if c in "'\"":
            value, end = _string(text, i)
            yield _Token("string", value, i, text[i:end])
            i = end
            continue
        op = next((op for op in _OPERATORS if text.startswith(op, i)), None)
        if op is None:
            hint = {
                ".": " (attribute access is not part of the text form)",
                ":": " (lambdas and slices are not part of the text form)",
                "{": " (write a schedule as name(arg=value, ...), not a dict)",
                "/": " (write a * 0.5 to scale a schedule)",
            }.get(c, "")
            raise SpecError(f"unexpected character {c!r}{hint}", text, i)
        yield _Token("op", None, i, op)
        i += len(op)
    yield _Token("end", None, n, "")


def _number(literal: str, text: str, position: int) -> int | float:
    digits = literal.replace("_", "")
    try:
        if any(c in digits for c in ".eE"):
            value: int | float = float(digits)
        else:
            value = int(digits)
            float(value)  # OverflowError if no float can hold it
    except (ValueError, OverflowError):
        raise SpecError(f"number {literal[:40]!r} is too large", text, position) from None
    if value == math.inf:
        raise SpecError(
            f"number {literal[:40]!r} is too large (write inf for infinity)", text, position
        )
    return value


def _string(text: str, start: int) -> tuple[str, int]:
    quote = text[start]
    out: list[str] = []
    i = start + 1
    while i < len(text):
        c = text[i]
        if c == quote:
            return "".join(out), i + 1
        if c == "\n":
            break
        if c == "\\":
            escaped = text[i + 1 : i + 2]
            if escaped not in _ESCAPES:
                raise SpecError(
                    "expected one of \\\\ \\' \\\" \\n \\t after a backslash in a string",
                    text,
                    i,
                )
            out.append(_ESCAPES[escaped])
            i += 2
            continue
        out.append(c)
        i += 1
    raise SpecError(f"expected {quote} to close the string", text, start)


def _message(error: Exception) -> str:
    return str(error) if isinstance(error, ValueError | TypeError) else repr(error)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _kind(value: Any) -> str:
    if isinstance(value, Schedule):
        return "a schedule"
    if isinstance(value, bool) or value is None:
        return repr(value)
    if _is_number(value):
        return f"the number {value!r}"
    if isinstance(value, str):
        return "a string"
    return "a list"


def _unknown_name(name: str, attribute: bool) -> str:
    if name == "lrkit" and attribute:
        return "write catalogue names without the 'lrkit.' prefix, e.g. cosine(...)"
    message = f"unknown schedule {name!r}"
    import difflib  # only for an error message; keeps `import lrkit` light

    close = difflib.get_close_matches(name, [*REGISTRY, *_CONSTANTS], n=1)
    if close:
        message += f"; did you mean {close[0]!r}?"
    return message + " (`lrkit list` shows the catalogue)"


# -- Python source ---------------------------------------------------------------------


def python_source(schedule: Schedule, width: int = 88) -> str:
    """Python code that builds ``schedule``: the text form with ``lrkit.`` names.

    Lines are broken, one argument per line, where they would be longer than ``width``.

    >>> s = lrkit.parse("linear(0.0, 5, end_lr=0.1) >> cosine(0.1, 95)")
    >>> print(lrkit.spec.python_source(s))
    lrkit.Join(
        schedules=[
            lrkit.linear(start_lr=0.0, decay_steps=5, end_lr=0.1),
            lrkit.cosine(start_lr=0.1, decay_steps=95),
        ],
        boundaries=[5],
    )
    """
    return _python(schedule, 0, width)


def _python_name(cls: type[Schedule]) -> str:
    if REGISTRY.get(cls.name) is cls:
        return cls.python_name or f"lrkit.{cls.name}"
    return f"{cls.__module__}.{cls.__qualname__}"


def _arguments(schedule: Schedule) -> list[tuple[str, Any]]:
    """The arguments that ``spec()`` writes: those not left at their default."""
    out = []
    for f in dataclasses.fields(schedule):
        value = getattr(schedule, f.name)
        default = f.default
        if default is not dataclasses.MISSING and type(value) is type(default) and value == default:
            continue
        out.append((f.name, value))
    return out


def _python(value: Any, indent: int, width: int) -> str:
    if isinstance(value, Schedule):
        args = _arguments(value)
        head = _python_name(type(value))
        one_line = f"{head}({', '.join(f'{k}={_python(v, 0, 10**9)}' for k, v in args)})"
        if indent + len(one_line) <= width or not args:
            return one_line
        pad = " " * (indent + 4)
        lines = [f"{pad}{k}={_python(v, indent + 4, width)}," for k, v in args]
        return head + "(\n" + "\n".join(lines) + "\n" + " " * indent + ")"
    if isinstance(value, tuple | list):
        items = [_python(v, 0, 10**9) for v in value]
        one_line = "[" + ", ".join(items) + "]"
        if indent + len(one_line) <= width or not value:
            return one_line
        pad = " " * (indent + 4)
        lines = [f"{pad}{_python(v, indent + 4, width)}," for v in value]
        return "[\n" + "\n".join(lines) + "\n" + " " * indent + "]"
    if isinstance(value, float) and not math.isfinite(value):
        return {math.inf: "math.inf", -math.inf: "-math.inf"}.get(value, "math.nan")
    return repr(value)

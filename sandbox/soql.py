"""SOQL parsing: ``sandbox/soql.lark`` (Lark, LALR) to a small syntax tree.

Errors come back as Salesforce words them: ``MALFORMED_QUERY`` with the query, a caret line,
``ERROR at Row:1:Column:N`` and ``unexpected token: 'X'``.
"""

import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from sandbox.errors import ApiError
from sandbox.values import parse_datetime


@dataclass
class FieldPath:
    parts: list[str]
    column: int = 0

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass
class DateLiteral:
    name: str
    n: int | None = None


@dataclass
class Comparison:
    path: FieldPath
    op: str  # = != < > <= >= like in not_in includes excludes
    value: object  # a python value, a list, a DateLiteral or a Query (semi-join)


@dataclass
class BoolOp:
    op: str  # and / or / not
    items: list


@dataclass
class OrderItem:
    path: FieldPath
    descending: bool = False
    nulls_first: bool | None = None


@dataclass
class Query:
    fields: list  # FieldPath, "COUNT()" or a child Query
    sobject: str
    sobject_column: int = 0
    where: object = None
    order: list[OrderItem] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None
    text: str = ""

    @property
    def is_count(self) -> bool:
        return self.fields == ["COUNT()"]


GRAMMAR = Path(__file__).with_name("soql.lark")


@cache
def parser() -> Lark:
    return Lark(
        GRAMMAR.read_text(), parser="lalr", propagate_positions=True, maybe_placeholders=False
    )


def _unescape(text: str) -> str:
    body = text[1:-1]
    out, i = [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append({"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}.get(nxt, nxt))
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


@v_args(inline=True)
class _ToAst(Transformer):
    def start(self, query):
        return query

    def select(self, fields, name, *clauses):
        query = Query(fields=fields, sobject=str(name), sobject_column=name.column)
        for kind, value in clauses:
            setattr(query, kind, value)
        return query

    def select_list(self, *items):
        return list(items)

    def count_all(self):
        return "COUNT()"

    def subquery(self, query):
        return query

    def field_path(self, *names):
        return FieldPath([str(n) for n in names], names[0].column)

    def where(self, condition):
        return ("where", condition)

    def or_(self, *items):
        return items[0] if len(items) == 1 else BoolOp("or", list(items))

    def and_(self, *items):
        return items[0] if len(items) == 1 else BoolOp("and", list(items))

    def not_(self, item):
        return BoolOp("not", [item])

    def compare(self, path, op, value):
        return Comparison(path, "!=" if str(op) == "<>" else str(op), value)

    def like(self, path, value):
        return Comparison(path, "like", value)

    def in_(self, path, values):
        return Comparison(path, "in", values)

    def not_in(self, path, values):
        return Comparison(path, "not_in", values)

    def in_select(self, path, query):
        return Comparison(path, "in", query)

    def not_in_select(self, path, query):
        return Comparison(path, "not_in", query)

    def includes(self, path, values):
        return Comparison(path, "includes", values)

    def excludes(self, path, values):
        return Comparison(path, "excludes", values)

    def value_list(self, *values):
        return list(values)

    def string(self, token):
        return _unescape(str(token))

    def number(self, token):
        text = str(token)
        return float(text) if any(c in text for c in ".eE") else int(text)

    def datetime(self, token):
        return parse_datetime(str(token))

    def date(self, token):
        return dt.date.fromisoformat(str(token))

    def true(self, _token):
        return True

    def false(self, _token):
        return False

    def null(self, _token):
        return None

    def date_literal(self, name, n=None):
        return DateLiteral(str(name).upper(), int(n) if n is not None else None)

    def order(self, *items):
        return ("order", list(items))

    def order_item(self, path, *rest):
        item = OrderItem(path)
        for part in rest:
            if isinstance(part, Token) and part.type == "DIRECTION":
                item.descending = str(part).upper() == "DESC"
            elif isinstance(part, bool):
                item.nulls_first = part
        return item

    def nulls(self, where):
        return str(where).upper() == "FIRST"

    def limit(self, value):
        return ("limit", int(value))

    def offset(self, value):
        return ("offset", int(value))


def malformed(text: str, column: int, message: str, code: str = "MALFORMED_QUERY") -> ApiError:
    """An error positioned the way Salesforce positions SOQL errors."""
    caret = " " * max(column - 1, 0) + "^"
    return ApiError(
        code, f"\n{text}\n{caret}\nERROR at Row:1:Column:{column}\n{message}", 400, None
    )


def parse(text: str) -> Query:
    """Parse SOQL text into a ``Query`` or raise MALFORMED_QUERY."""
    if not text or not text.strip():
        raise ApiError("MALFORMED_QUERY", "unexpected token: <EOF>", 400, None)
    try:
        query = _ToAst().transform(parser().parse(text))
    except UnexpectedEOF as exc:
        raise malformed(text, len(text), "unexpected token: <EOF>") from exc
    except UnexpectedToken as exc:
        token = "<EOF>" if exc.token.type == "$END" else str(exc.token)
        raise malformed(
            text,
            exc.column if exc.column != "?" else len(text),
            f"unexpected token: '{token}'" if token != "<EOF>" else "unexpected token: <EOF>",
        ) from exc
    except UnexpectedCharacters as exc:
        bad = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
        raise malformed(text, exc.column, f"unexpected token: '{bad}'") from exc
    except UnexpectedInput as exc:  # pragma: no cover - other Lark errors
        raise malformed(text, 1, "unexpected token") from exc
    query.text = text
    return query

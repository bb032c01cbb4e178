"""The small, safe expression language of the dialogue suites: conditions over an
item's metadata (`price <= 150 and 'tent' in tags`) and references to items shown
earlier ('@2' = item 2 of the last list, '@3.1' = item 1 shown at turn 3)."""

from __future__ import annotations

import ast
import operator
import re
from typing import Any

from chat import ChatError


class SuiteError(ChatError):
    """A dialogue suite file is malformed."""


_COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}


def satisfies(expression: str, meta: dict[str, Any], lookup=None) -> bool:
    """Evaluate a small, safe expression over an item's metadata. Names are fields
    (missing ones are None); a comparison that cannot be made is False.
    `at('@1.2', 'price')` is a field of an item shown earlier ("cheaper than the
    second one"), through `lookup(ref, field)`."""
    return bool(_eval(ast.parse(expression, mode="eval").body, meta, lookup))


def _eval(node: ast.AST, meta: dict[str, Any], lookup=None) -> Any:
    if isinstance(node, ast.BoolOp):
        values = [_eval(v, meta, lookup) for v in node.values]
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not _eval(node.operand, meta, lookup)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "at"
        and len(node.args) == 2
        and all(isinstance(a, ast.Constant) for a in node.args)
        and not node.keywords
    ):
        if lookup is None:
            raise SuiteError("at(ref, field) needs the items shown so far.")
        return lookup(node.args[0].value, node.args[1].value)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, meta, lookup)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = _eval(right_node, meta, lookup)
            try:
                if not _COMPARE[type(op)](left, right):
                    return False
            except TypeError:
                return False
            left = right
        return True
    if isinstance(node, ast.Name):
        return meta.get(node.id)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_eval(e, meta, lookup) for e in node.elts]
    raise SuiteError(f"Unsupported expression element: {ast.dump(node)[:60]}")


# --- references to items shown earlier ('@2', '@3.1') ----------------------------------


def resolve(ref: str, lists: list[list[str]]) -> str:
    """'@2' = item 2 of the last list shown; '@3.1' = item 1 shown at turn 3; '@last'
    and '@3.last' = the last item of that list; else an id."""
    if not isinstance(ref, str) or not ref.startswith("@"):
        return ref
    m = re.fullmatch(r"@(?:(\d+)\.)?(\d+|last)", ref)
    if not m:
        raise SuiteError(f"Bad item reference {ref!r}; use @N, @T.N, @last or @T.last.")
    if m.group(1):
        shown = lists[int(m.group(1)) - 1] if int(m.group(1)) <= len(lists) else []
    else:
        shown = next((s for s in reversed(lists) if s), [])
    index = len(shown) - 1 if m.group(2) == "last" else int(m.group(2)) - 1
    return shown[index] if 0 <= index < len(shown) else f"(nothing at {ref})"

"""A safe arithmetic evaluator for the agents' calculator tool: an AST walk, never `eval`.

Only numbers, + - * / // % **, unary signs, parentheses and a few named functions are
accepted; anything else (names, attributes, strings, comprehensions, lambdas ...) is refused
before any work is done. Work is bounded too: the expression's length and node count, the
size of an integer power (estimated from the operands' bit lengths before computing it) and
the size of every integer result, so "9**9**9" is an error, not a frozen actor.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable

MAX_EXPRESSION_CHARS = 500
MAX_NODES = 200
MAX_INT_BITS = 4_096
"""Integers past this many bits (about 1,233 decimal digits) are refused."""
MAX_EXPONENT = 10_000

Number = int | float


class ExpressionError(ValueError):
    """An expression the evaluator refuses or can't compute; the message says why."""


def _power(base: Number, exponent: Number) -> Number:
    if isinstance(exponent, int) and abs(exponent) > MAX_EXPONENT:
        raise ExpressionError(f"exponent {exponent} is too large (limit {MAX_EXPONENT})")
    whole = isinstance(base, int) and isinstance(exponent, int) and exponent > 0
    if whole and max(int(base).bit_length(), 1) * exponent > MAX_INT_BITS:
        raise ExpressionError(f"{base} ** {exponent} would be too large to compute")
    result = operator.pow(base, exponent)
    if isinstance(result, complex):
        raise ExpressionError("the result is a complex number; only real numbers are supported")
    return result


BINARY: dict[type[ast.operator], Callable[[Number, Number], Number]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: _power,
}
UNARY: dict[type[ast.unaryop], Callable[[Number], Number]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
FUNCTIONS: dict[str, Callable[..., Number]] = {
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
    "sqrt": math.sqrt,
}
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}


def evaluate(expression: str) -> Number:
    """The value of an arithmetic ``expression`` such as ``"(2 + 3) * 4 / 5"``.

    Raises `ExpressionError` naming what was refused or what went wrong.
    """
    text = expression.strip().replace("^", "**")  # people write powers both ways
    if not text:
        raise ExpressionError("empty expression: give arithmetic such as (2 + 3) * 4")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(f"expression longer than {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise ExpressionError(f"not an arithmetic expression: {text!r}") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ExpressionError(f"expression has more than {MAX_NODES} parts")
    try:
        return _value(tree.body)
    except ZeroDivisionError:
        raise ExpressionError("division by zero") from None
    except (OverflowError, ValueError) as error:
        if isinstance(error, ExpressionError):
            raise
        raise ExpressionError(f"can't compute that: {error}") from None


def _value(node: ast.expr) -> Number:
    match node:
        case ast.Constant(value=bool()):
            raise ExpressionError("true/false are not numbers")
        case ast.Constant(value=int() | float() as number):
            return _checked(number)
        case ast.Name(id=name) if name in CONSTANTS:
            return CONSTANTS[name]
        case ast.BinOp(left=left, op=op, right=right) if type(op) in BINARY:
            return _checked(BINARY[type(op)](_value(left), _value(right)))
        case ast.UnaryOp(op=op, operand=operand) if type(op) in UNARY:
            return UNARY[type(op)](_value(operand))
        case ast.Call(func=ast.Name(id=name), args=args, keywords=[]) if name in FUNCTIONS:
            if not args:
                raise ExpressionError(f"{name}() needs an argument")
            return _checked(FUNCTIONS[name](*(_value(arg) for arg in args)))
    raise ExpressionError(
        f"not allowed in arithmetic: {ast.unparse(node)!r} (use numbers, + - * / // % **, "
        f"parentheses and {', '.join(FUNCTIONS)})"
    )


def _checked(number: Number) -> Number:
    if isinstance(number, int) and number.bit_length() > MAX_INT_BITS:
        raise ExpressionError(f"a number in the expression has more than {MAX_INT_BITS} bits")
    if isinstance(number, float) and not math.isfinite(number):
        raise ExpressionError("the result is not a finite number")
    return number

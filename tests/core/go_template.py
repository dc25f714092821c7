"""Just enough of Go's text/template to render the Ollama TEMPLATEs ftwizard writes, so tests can check what
Ollama would send the model: text, `{{- -}}` trimming, `if / else if / else / end`, `range [$i, $x :=] PIPE`,
`$x := v`, `$x = v`, fields (`.Role`, `$.System`), string literals, and the functions eq, ne, and, len, slice.
Anything else raises, so a template using more than this is noticed rather than rendered wrongly."""

from __future__ import annotations

import re
from typing import Any

_ACTION = re.compile(r"\{\{(- )?(.*?)( -)?\}\}", re.S)
_WORD = re.compile(r'\(|\)|"(?:[^"\\]|\\.)*"|[^\s()]+')


def _lex(template: str) -> list[tuple[str, str]]:
    """("text", s) and ("action", s) pieces, with the trim markers applied to the neighbouring text."""
    pieces: list[tuple[str, str]] = []
    position, trim_next = 0, False
    for match in _ACTION.finditer(template):
        text = template[position : match.start()]
        if trim_next:
            text = text.lstrip()
        if match.group(1):
            text = text.rstrip()
        pieces.append(("text", text))
        pieces.append(("action", match.group(2).strip()))
        position, trim_next = match.end(), bool(match.group(3))
    tail = template[position:]
    pieces.append(("text", tail.lstrip() if trim_next else tail))
    return pieces


def _parse(pieces: list[tuple[str, str]], at: int, stops: tuple[str, ...]) -> tuple[list[Any], int]:
    """Nodes until an action starting with one of `stops` (its index returned, not consumed)."""
    nodes: list[Any] = []
    while at < len(pieces):
        kind, text = pieces[at]
        if kind == "text":
            nodes.append(("text", text))
            at += 1
            continue
        word = text.split(" ", 1)[0]
        if word in stops:
            return nodes, at
        if word == "if":
            branches, otherwise = [], []
            condition = text[3:]
            while True:
                body, at = _parse(pieces, at + 1, ("else", "end"))
                branches.append((condition, body))
                closing = pieces[at][1]
                if closing.startswith("else if "):
                    condition = closing[len("else if ") :]
                    continue
                if closing == "else":
                    otherwise, at = _parse(pieces, at + 1, ("end",))
                break
            nodes.append(("if", branches, otherwise))
            at += 1
        elif word == "range":
            header = text[len("range ") :]
            names: list[str] = []
            if ":=" in header:
                left, header = header.split(":=", 1)
                names = [name.strip() for name in left.split(",")]
            body, at = _parse(pieces, at + 1, ("end",))
            nodes.append(("range", names, header.strip(), body))
            at += 1
        else:
            nodes.append(("action", text))
            at += 1
    if stops:
        raise ValueError(f"missing {{{{ end }}}} (wanted one of {stops})")
    return nodes, at


class _Scope:
    def __init__(self, root: dict[str, Any]) -> None:
        self.frames: list[dict[str, Any]] = [{"$": root}]

    def get(self, name: str) -> Any:
        for frame in reversed(self.frames):
            if name in frame:
                return frame[name]
        raise NameError(f"undefined variable {name}")

    def assign(self, name: str, value: Any) -> None:
        for frame in reversed(self.frames):
            if name in frame:
                frame[name] = value
                return
        raise NameError(f"assignment to undeclared variable {name}")


def _truthy(value: Any) -> bool:
    return bool(value)


def _field(value: Any, path: str) -> Any:
    for part in filter(None, path.split(".")):
        value = value[part] if isinstance(value, dict) else getattr(value, part)
    return value


_FUNCTIONS = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "and": lambda *args: next((a for a in args if not _truthy(a)), args[-1]),
    "len": len,
    "slice": lambda items, start: items[start:],
}


def _evaluate(words: list[str], dot: Any, scope: _Scope) -> Any:
    values, at = _operands(words, 0, dot, scope)
    if at != len(words):
        raise ValueError(f"unexpected {words[at]!r}")
    return values


def _operands(words: list[str], at: int, dot: Any, scope: _Scope) -> tuple[Any, int]:
    """One command: a function with its arguments, or a single operand."""
    if words[at] in _FUNCTIONS:
        function, args = _FUNCTIONS[words[at]], []
        at += 1
        while at < len(words) and words[at] != ")":
            value, at = _operand(words, at, dot, scope)
            args.append(value)
        return function(*args), at
    return _operand(words, at, dot, scope)


def _operand(words: list[str], at: int, dot: Any, scope: _Scope) -> tuple[Any, int]:
    word = words[at]
    if word == "(":
        value, at = _operands(words, at + 1, dot, scope)
        if words[at] != ")":
            raise ValueError("missing )")
        return value, at + 1
    if word.startswith('"'):
        return word[1:-1].replace('\\"', '"').replace("\\n", "\n"), at + 1
    if word == ".":
        return dot, at + 1
    if word.startswith("."):
        return _field(dot, word), at + 1
    if word.startswith("$"):
        name, _, path = word.partition(".")
        return _field(scope.get(name), path), at + 1
    if word.isdigit():
        return int(word), at + 1
    raise ValueError(f"unsupported word {word!r}")


def _run(nodes: list[Any], dot: Any, scope: _Scope, out: list[str]) -> None:
    for node in nodes:
        kind = node[0]
        if kind == "text":
            out.append(node[1])
        elif kind == "action":
            text = node[1]
            if match := re.fullmatch(r"(\$\w+)\s*(:?=)\s*(.+)", text, re.S):
                value = _evaluate(_WORD.findall(match.group(3)), dot, scope)
                if match.group(2) == ":=":
                    scope.frames[-1][match.group(1)] = value
                else:
                    scope.assign(match.group(1), value)
                continue
            value = _evaluate(_WORD.findall(text), dot, scope)
            out.append("" if value is None else str(value))
        elif kind == "if":
            for condition, body in node[1]:
                if _truthy(_evaluate(_WORD.findall(condition), dot, scope)):
                    scope.frames.append({})
                    _run(body, dot, scope, out)
                    scope.frames.pop()
                    break
            else:
                scope.frames.append({})
                _run(node[2], dot, scope, out)
                scope.frames.pop()
        elif kind == "range":
            _, names, pipeline, body = node
            for index, item in enumerate(_evaluate(_WORD.findall(pipeline), dot, scope) or []):
                frame: dict[str, Any] = {}
                if len(names) == 2:
                    frame[names[0]], frame[names[1]] = index, item
                elif len(names) == 1:
                    frame[names[0]] = item
                scope.frames.append(frame)
                _run(body, item, scope, out)
                scope.frames.pop()


def render(template: str, data: dict[str, Any]) -> str:
    """`template` executed with `data` as dot (and `$`)."""
    nodes, _ = _parse(_lex(template), 0, ())
    out: list[str] = []
    _run(nodes, data, _Scope(data), out)
    return "".join(out)

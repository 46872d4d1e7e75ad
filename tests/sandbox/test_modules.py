"""How the sandbox's modules import each other: no cycle, and no import hidden in a function to
dodge one (only the ``python -m`` entry points import inside a function, after django.setup())."""

import ast
from pathlib import Path

SANDBOX = Path(__file__).resolve().parents[2] / "sandbox"


def _sandbox_modules(node: ast.Import | ast.ImportFrom) -> set[str]:
    if isinstance(node, ast.Import):
        return {a.name for a in node.names if a.name.split(".")[0] == "sandbox"}
    if node.level or not node.module or node.module.split(".")[0] != "sandbox":
        return set()
    if node.module == "sandbox":
        return {f"sandbox.{a.name}" for a in node.names}
    return {node.module}


def _graph() -> dict[str, set[str]]:
    """Module → the sandbox modules it imports, at the top or inside a function."""
    paths = {f"sandbox.{p.stem}": p for p in SANDBOX.glob("*.py")}
    graph = {}
    for name, path in paths.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import | ast.ImportFrom):
                found |= _sandbox_modules(node)
        graph[name] = {m for m in found if m in paths and m != name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle, as the list of modules around it, or []."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(name: str) -> list[str]:
        state[name] = "open"
        stack.append(name)
        for target in sorted(graph[name]):
            if state.get(target) == "open":
                return [*stack[stack.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        state[name] = "done"
        stack.pop()
        return []

    for name in sorted(graph):
        if name not in state and (found := visit(name)):
            return found
    return []


def _calls_django_setup(statements: list[ast.stmt]) -> bool:
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "setup"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "django"
        for statement in statements
        for node in ast.walk(statement)
    )


def _function_level_imports() -> list[str]:
    """``module.function: imported`` for each sandbox import inside a function that is not
    preceded, in that function, by ``django.setup()``."""
    out = []
    for path in sorted(SANDBOX.glob("*.py")):
        for func in ast.walk(ast.parse(path.read_text())):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for index, statement in enumerate(func.body):
                for node in ast.walk(statement):
                    if not isinstance(node, ast.Import | ast.ImportFrom):
                        continue
                    imported = _sandbox_modules(node)
                    if imported and not _calls_django_setup(func.body[:index]):
                        out.append(f"{path.stem}.{func.name}: {', '.join(sorted(imported))}")
    return out


def test_sandbox_modules_import_each_other_without_a_cycle():
    assert _cycle(_graph()) == []


def test_sandbox_modules_import_each_other_at_the_top():
    assert _function_level_imports() == []

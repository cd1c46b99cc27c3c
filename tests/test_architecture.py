"""The layers of docs/ARCHITECTURE.md hold: a module imports only its own layer and the layers below.

Every ``import sim...`` / ``from sim... import`` in sim/ and app.py, function-level ones included,
is read with ``ast`` and checked against the order below; module size stays readable.
"""

from __future__ import annotations

import ast

from conftest import ROOT

# Lowest first. A layer may import itself and any layer before it.
LAYERS = ("data", "inputs", "core", "outputs", "submodels", "engines", "runs", ("analysis", "calibration", "api"),
          ("cli", "docs", "ui", "__main__"), "app")
RANK = {name: i for i, entry in enumerate(LAYERS) for name in (entry if isinstance(entry, tuple) else (entry,))}
MAX_LINES = 620


def _layer(module: str) -> str:
    """The layer of a dotted module name under sim (``sim.engines.base`` -> ``engines``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "sim"


def _imports(path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sim"):
            if node.module == "sim":  # from sim import engines, ...
                out += [f"sim.{alias.name}" for alias in node.names]
            else:
                out.append(node.module)
        elif isinstance(node, ast.Import):
            out += [alias.name for alias in node.names if alias.name.startswith("sim.")]
    return out


def _modules():
    for path in sorted((ROOT / "sim").rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        yield path, ".".join(rel.parts).removesuffix(".__init__")
    yield ROOT / "app.py", "app"


def test_every_import_goes_to_the_same_layer_or_a_lower_one():
    wrong = []
    for path, module in _modules():
        own = "app" if module == "app" else _layer(module)
        if own == "sim":  # sim/__init__.py
            continue
        for target in _imports(path):
            layer = _layer(target)
            if layer == "sim":
                continue
            if RANK[layer] > RANK[own]:
                wrong.append(f"{module} ({own}) imports {target} ({layer})")
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_every_module_belongs_to_a_layer():
    unknown = {module for _, module in _modules() if module != "app" and _layer(module) not in RANK
               and _layer(module) != "sim"}
    assert not unknown, f"modules outside the declared layers: {sorted(unknown)}"


def test_no_module_is_too_long_to_read():
    long = {module: n for path, module in _modules()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines (split them by concern): {long}"

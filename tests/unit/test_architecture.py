"""The shape of bot/ and core/: the import contracts of pyproject.toml, and no import cycles.

`python3 dev.py check` runs the same contracts with `lint-imports`; they are here too so that
`python3 dev.py test`, which needs no dev tools, fails on a broken one as well.

Cycles are checked on grimp's graph, which holds every import statement, including those inside
functions: a cycle hidden in a function still ties the modules together (neither can be
understood, tested or moved without the other) and can still fail at run time, when the
function first runs half way through an import.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable
from pathlib import Path

import grimp
import pytest
from importlinter import configuration
from importlinter.application import use_cases

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "core")


def test_the_import_contracts_of_pyproject_are_kept(capsys: pytest.CaptureFixture[str]) -> None:
    # The use case `lint-imports` runs, not importlinter.cli.lint_imports: that one also calls
    # logging's dictConfig, which would disable every logger already made in this process (and
    # with them the log assertions of tests that run after this one).
    configuration.configure()
    kept = use_cases.lint_imports(
        config_filename=str(ROOT / "pyproject.toml"), cache_dir=None, no_logo=True
    )
    assert kept, capsys.readouterr().out


def test_bot_and_core_have_no_import_cycles() -> None:
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    cycles = import_cycles(graph)
    assert not cycles, "import cycles (break each one):\n\n" + "\n\n".join(
        describe(graph, cycle) for cycle in cycles
    )


# --- the check itself, on packages made for it ----------------------------------------------


def test_a_cycle_through_an_import_inside_a_function_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph = throwaway_package(
        tmp_path,
        monkeypatch,
        {
            "a.py": "def later() -> None:\n    from cyclic import b\n",
            "b.py": "from cyclic import c\n",
            "c.py": "import cyclic.a\n",
            "d.py": "import cyclic.a\n",  # imports into the cycle, but is not part of it
        },
    )
    assert import_cycles(graph) == [["cyclic.a", "cyclic.b", "cyclic.c"]]


def test_imports_without_a_cycle_give_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    graph = throwaway_package(
        tmp_path,
        monkeypatch,
        {
            "a.py": "from cyclic import b, c\n",
            "b.py": "def later() -> None:\n    from cyclic import c\n",
            "c.py": "import json\n",
        },
    )
    assert graph.direct_import_exists(importer="cyclic.b", imported="cyclic.c")
    assert import_cycles(graph) == []


def throwaway_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, modules: dict[str, str]
) -> grimp.ImportGraph:
    """grimp's graph of a package `cyclic` made of `modules` (file name -> source)."""
    package = tmp_path / "cyclic"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name, source in modules.items():
        (package / name).write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path))  # grimp finds a package where Python would
    return grimp.build_graph("cyclic", cache_dir=None)


# --- finding cycles ---------------------------------------------------------------------------


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every set of modules that import each other in a circle, each sorted, smallest first.

    These are the strongly connected components of more than one module (Tarjan's algorithm).
    """
    components = strongly_connected(sorted(graph.modules), graph.find_modules_directly_imported_by)
    return sorted(sorted(c) for c in components if len(c) > 1)


def strongly_connected(
    nodes: Iterable[str], successors: Callable[[str], Iterable[str]]
) -> list[list[str]]:
    """Tarjan's strongly connected components, iterative so that no import chain is too deep."""
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    work: list[tuple[str, list[str]]] = []  # the DFS path: each node, and its successors left

    def visit(node: str) -> None:
        index[node] = lowlink[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        work.append((node, sorted(successors(node))))

    for root in nodes:
        if root in index:
            continue
        visit(root)
        while work:
            node, todo = work[-1]
            if todo:
                nxt = todo.pop()
                if nxt not in index:
                    visit(nxt)
                elif nxt in on_stack:
                    lowlink[node] = min(lowlink[node], index[nxt])
                continue
            work.pop()
            if work:  # hand the lowest reachable index back to the importer
                parent = work[-1][0]
                lowlink[parent] = min(lowlink[parent], lowlink[node])
            if lowlink[node] == index[node]:  # node is the root of a component: pop it whole
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
    return components


def describe(graph: grimp.ImportGraph, cycle: list[str]) -> str:
    """The imports that tie the modules of `cycle` together, with their lines."""
    members = set(cycle)
    lines = [" <-> ".join(cycle)]
    for importer in cycle:
        for imported in sorted(graph.find_modules_directly_imported_by(importer) & members):
            for detail in graph.get_import_details(importer=importer, imported=imported):
                lines.append(
                    f"  {importer}:{detail['line_number']}: {detail['line_contents'].strip()}"
                )
    return "\n".join(lines)

#!/usr/bin/env python3
"""Reports import cycles between the modules of each library crate.

A module is a file under `crates/<crate>/src` (`foo.rs` and `foo/mod.rs` are module `foo`).
An edge A -> B is a `use crate::B...`, `crate::B::` path or `super::` reference in A's non-test
code that names another module. Child -> parent edges through `super::` are left out: a child
always sees its parent. Prints each strongly connected component of two or more modules and
exits 1 when there is one, so `just lint` can run it.

Usage: python3 scripts/module-cycles.py [crate-dir ...]   (default: every crates/*)

KNOWN lists cycles that are known and scheduled for removal: they are printed but do not fail
the check. Keep it empty; a new entry needs a reason beside it.
"""
import re
import sys
from pathlib import Path


# (crate, sorted modules of the cycle): why it is still here.
KNOWN: dict = {}


def module_of(src: Path, path: Path) -> str:
    rel = path.relative_to(src).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return "::".join(parts)


def non_test(text: str) -> str:
    # Drop everything from the first `#[cfg(test)]` item on; test modules sit at the end.
    cut = text.find("#[cfg(test)]")
    text = text if cut < 0 else text[:cut]
    # Comments (doc links included) are not imports.
    return re.sub(r"//[^\n]*", "", text)


def resolve(modules: set, path: list) -> str | None:
    # Longest prefix of the path that is a module.
    for n in range(len(path), 0, -1):
        cand = "::".join(path[:n])
        if cand in modules:
            return cand
    return None


def edges(src: Path):
    files = {module_of(src, p): p for p in src.rglob("*.rs")}
    files = {m: p for m, p in files.items() if not m.endswith("tests") and "/tests/" not in str(p)}
    modules = set(files)
    graph = {m: set() for m in modules}
    for mod, path in files.items():
        text = non_test(path.read_text())
        here = mod.split("::") if mod else []
        for m in re.finditer(r"\b(crate|super)((?:::\w+)+)", text):
            head, rest = m.group(1), [p for p in m.group(2).split("::") if p]
            if head == "crate":
                full = rest
            else:
                base = here[:-1]
                while rest and rest[0] == "super":
                    base = base[:-1]
                    rest = rest[1:]
                full = base + rest
            target = resolve(modules, full)
            if target is None or target == mod or target == "":
                continue
            if mod.startswith(target + "::"):
                continue  # a child naming its ancestor
            graph[mod].add(target)
    return graph


def sccs(graph):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return [sorted(c) for c in out if len(c) > 1]


def main():
    root = Path(__file__).resolve().parent.parent
    crates = [Path(a) for a in sys.argv[1:]] or sorted((root / "crates").iterdir())
    found = False
    for crate in crates:
        src = crate / "src"
        if not src.is_dir():
            continue
        for comp in sccs(edges(src)):
            why = KNOWN.get((crate.name, tuple(comp)))
            if why:
                print(f"{crate.name}: known cycle among {', '.join(comp)} ({why})")
                continue
            found = True
            print(f"{crate.name}: cycle among {', '.join(comp)}")
    if not found:
        print("no new import cycles between modules")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()

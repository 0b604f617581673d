#!/usr/bin/env python3
"""Checks that dependencies point down (ARCHITECTURE.md): every #include "folder/..." of a source
folder names a folder it may use, no file-level include cycle exists, and, given a build folder,
the CMake target graph (cmake --graphviz) has no edge between qnn libraries that points up.

Usage: python3 tools/check_layers.py [BUILD_DIR]     (exit 1 and a list of violations on failure)
"""
import os
import re
import subprocess
import sys

# What each folder (one library target) may include, itself included.
ALLOWED = {
    "core": {"core"},
    "nn": {"nn", "core"},
    "optim": {"optim", "nn", "core"},
    "quant": {"quant", "optim", "nn", "core"},
    "datasets": {"datasets", "core"},
    "engine": {"engine", "quant", "optim", "datasets", "nn", "core"},
    "apps": {"apps", "engine", "quant", "optim", "datasets", "nn", "core"},
    "examples": {"engine", "quant", "optim", "datasets", "nn", "core"},
}
TARGET_OF = {f: "qnn_" + f for f in ALLOWED if f not in ("examples",)}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources(root):
    for folder in ALLOWED:
        for dirpath, _, files in os.walk(os.path.join(root, folder)):
            for name in files:
                if name.endswith((".h", ".cpp", ".cu", ".cuh")):
                    yield folder, os.path.relpath(os.path.join(dirpath, name), root)


def check_includes(root):
    problems, graph = [], {}
    for folder, path in sources(root):
        with open(os.path.join(root, path), encoding="utf-8") as f:
            text = f.read()
        graph[path] = []
        for inc in INCLUDE.findall(text):
            top = inc.split("/")[0]
            if top not in ALLOWED and top != "tests":
                continue  # generated or system-style headers ("git_commit.h")
            if top not in ALLOWED[folder]:
                problems.append(f"{path}: includes {inc} ({folder} may use {sorted(ALLOWED[folder])})")
            graph[path].append(inc)
    # File-level cycles among headers (depth-first search, colours).
    colour, stack = {}, []

    def visit(node):
        colour[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if colour.get(nxt) == 1:
                problems.append("include cycle: " + " -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif colour.get(nxt, 0) == 0 and nxt in graph:
                visit(nxt)
        stack.pop()
        colour[node] = 2

    for node in sorted(graph):
        if colour.get(node, 0) == 0:
            visit(node)
    return problems, sum(len(v) for v in graph.values())


def check_targets(build):
    dot = os.path.join(build, "graphviz", "qnn.dot")
    os.makedirs(os.path.dirname(dot), exist_ok=True)
    subprocess.run(["cmake", "--graphviz=" + dot, "."], cwd=build, check=True, stdout=subprocess.DEVNULL)
    text = open(dot, encoding="utf-8").read()
    names = dict(re.findall(r'"(node\d+)"\s*\[\s*label\s*=\s*"([^"]+)"', text))
    edges = [(names.get(a), names.get(b)) for a, b in re.findall(r'"(node\d+)"\s*->\s*"(node\d+)"', text)]
    folder_of = {t: f for f, t in TARGET_OF.items()}
    problems, kept = [], []
    for a, b in edges:
        if a in folder_of and b in folder_of:
            kept.append((a, b))
            if folder_of[b] not in ALLOWED[folder_of[a]]:
                problems.append(f"target {a} links {b}, which is above it")
    return problems, kept


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    problems, count = check_includes(root)
    print(f"includes: {count} project includes checked")
    if len(sys.argv) > 1:
        target_problems, edges = check_targets(os.path.abspath(sys.argv[1]))
        problems += target_problems
        print("targets: " + ", ".join(f"{a} -> {b}" for a, b in sorted(edges)))
    for p in problems:
        print("violation: " + p)
    print("layers: ok" if not problems else f"layers: {len(problems)} violation(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

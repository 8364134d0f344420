#!/usr/bin/env python3
"""Keeps the code in durable's docs true.

Every fenced code block in the given Markdown files that is preceded by a
marker line

    <!-- snippet: path/to/source.cc -->

must appear in that source file: each of its lines (whitespace-trimmed,
skipping lines that are just "...") must occur in the file, in order. The
sources are compiled and run by tests, so a doc snippet that drifts from
them fails this check. C and C++ blocks without a marker are errors too.

Usage: check_doc_snippets.py <repo-root> <file.md>...
"""
import re
import sys
from pathlib import Path

MARKER = re.compile(r"<!--\s*snippet:\s*(\S+)\s*-->")
FENCE = re.compile(r"^```(\w*)\s*$")


def blocks(text):
    """Yields (line_number, language, marker_path_or_None, code_lines)."""
    lines = text.splitlines()
    i = 0
    pending_marker = None
    while i < len(lines):
        marker = MARKER.search(lines[i])
        if marker:
            pending_marker = marker.group(1)
            i += 1
            continue
        fence = FENCE.match(lines[i])
        if fence:
            start = i
            language = fence.group(1)
            i += 1
            code = []
            while i < len(lines) and not lines[i].startswith("```"):
                code.append(lines[i])
                i += 1
            yield start + 1, language, pending_marker, code
            pending_marker = None
        elif lines[i].strip():
            pending_marker = None
        i += 1


def is_subsequence(needles, haystack):
    position = 0
    for needle in needles:
        while position < len(haystack) and haystack[position] != needle:
            position += 1
        if position == len(haystack):
            return needle
        position += 1
    return None


def main(argv):
    root = Path(argv[1])
    errors = []
    checked = 0
    for doc in argv[2:]:
        text = Path(doc).read_text()
        for line, language, source, code in blocks(text):
            if source is None:
                if language in ("c", "cpp", "c++"):
                    errors.append(f"{doc}:{line}: {language} block without a "
                                  "<!-- snippet: path --> marker")
                continue
            path = root / source
            if not path.exists():
                errors.append(f"{doc}:{line}: snippet source {source} missing")
                continue
            haystack = [l.strip() for l in path.read_text().splitlines()]
            needles = [l.strip() for l in code if l.strip() not in ("", "...")]
            missing = is_subsequence(needles, haystack)
            if missing is not None:
                errors.append(f"{doc}:{line}: line not found (in order) in "
                              f"{source}: {missing!r}")
            checked += 1
    for error in errors:
        print(error, file=sys.stderr)
    print(f"checked {checked} snippets, {len(errors)} problems")
    return 1 if errors or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

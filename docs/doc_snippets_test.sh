#!/bin/bash
set -euo pipefail
exec python3 tools/check_doc_snippets.py . README.md docs/*.md

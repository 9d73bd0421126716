#!/usr/bin/env bash
# MathJax 3 from the npm registry into docs/_static/mathjax (not committed), so the built
# site renders its formulas without a network. Run by .ci/run before the docs build.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -f _static/mathjax/tex-mml-chtml.js ]; then
    work="$(mktemp -d)"
    (cd "$work" && npm pack mathjax@3.2.2 --silent >/dev/null && tar xzf mathjax-3.2.2.tgz)
    mkdir -p _static
    rm -rf _static/mathjax
    mv "$work/package/es5" _static/mathjax
    rm -rf "$work"
fi

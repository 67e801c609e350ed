"""Collect bench/results/*.md into bench/results/SUMMARY.md (run by `make bench` after every benchmark)."""

import pathlib

RESULTS = pathlib.Path(__file__).resolve().parent / "results"

parts = ["# Benchmark summary\n", "Latest results of `make bench`; each section is one benchmark's own report.\n"]
for md in sorted(RESULTS.glob("*.md")):
    if md.name != "SUMMARY.md":
        parts.append(md.read_text().replace("# ", "## ", 1))
(RESULTS / "SUMMARY.md").write_text("\n".join(parts))
print(f"wrote {RESULTS / 'SUMMARY.md'}")

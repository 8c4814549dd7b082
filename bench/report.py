"""The results: ``bench/results/latest.json``, a dated copy, and the tables.

Targets (issue 6, at 1M cases): every endpoint ≤ 100 ms median and within 2× of its floor;
bulk API ≥ 3,000 cases/s; CSV import ≥ 10,000 rows/s; server RSS < 300 MB.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.floor import SAME

TARGET_MS = 100.0
TARGET_RATIO = 2.0
TARGET_BULK = 3_000
TARGET_CSV = 10_000
TARGET_RSS_MB = 300.0


LATEST_FORMAT = "supportmetrics-bench-latest/1"


def write(results: dict[str, Any], directory: Path) -> list[Path]:
    """``<cases>-<date>.json`` (a later run the same day replaces it) and ``latest.json``.

    ``latest.json`` holds the newest run of each data-set size under ``runs`` (keyed by the
    case count), so a 5M run does not push the 1M run out; ``newest`` names the last one.
    """
    directory.mkdir(parents=True, exist_ok=True)
    cases = str(results["dataset"]["cases"])
    dated = directory / f"{cases}-{results['started_at'][:10]}.json"
    dated.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    latest = directory / "latest.json"
    runs = read_latest(latest)
    runs[cases] = results
    ordered = dict(sorted(runs.items(), key=lambda item: int(item[0])))
    document = {"format": LATEST_FORMAT, "newest": cases, "runs": ordered}
    latest.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    return [latest, dated]


def read_latest(path: Path) -> dict[str, dict[str, Any]]:
    """The runs ``latest.json`` holds by case count; a file from before it held several
    runs (one run at the top level) counts as that run; none or unreadable → none."""
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(document, dict):
        return {}
    if document.get("format") == LATEST_FORMAT:
        return dict(document.get("runs") or {})
    if "dataset" in document:
        return {str(document["dataset"]["cases"]): document}
    return {}


def _fmt(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _mark(row: dict[str, Any]) -> str:
    if row.get("timed_out"):
        return "timed out"
    if row.get("status") != 200 or "median_ms" not in row:
        return f"failed (HTTP {row.get('status')})"
    notes = [] if not row.get("error") else ["no floor: " + row["error"][:60]]
    if row["median_ms"] > TARGET_MS:
        notes.append(">100ms")
    if row.get("ratio") is not None and row["ratio"] > TARGET_RATIO:
        notes.append(">2x")
    if row.get("runs", 0) < row.get("runs_asked", 0):
        notes.append(f"{row['runs']} run{'s' if row['runs'] != 1 else ''}")
    if row.get("rows_match") not in (*SAME, "nothing to compare", None):
        notes.append(f"rows: {row.get('rows_match')}")
    return ", ".join(notes)


def endpoint_rows(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    for row in results["endpoints"]:
        window = row["window"]
        label = window["label"] + (f" ({window['days']}d)" if window["capped"] else "")
        rows.append(
            [
                row["endpoint"],
                label,
                row["scope"],
                _fmt(row.get("median_ms")),
                _fmt(row.get("floor_ms")),
                _fmt(row.get("ratio"), 2),
                f"{row.get('floor_statements', '—')}/{row.get('statements', '—')}",
                _mark(row),
            ]
        )
    return rows


HEADER = ["endpoint", "window", "scope", "median ms", "floor ms", "ratio", "stmts", "misses"]


def text_table(results: dict[str, Any]) -> str:
    rows = [HEADER, *endpoint_rows(results)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    numeric = {3, 4, 5, 6}
    lines = []
    for n, row in enumerate(rows):
        cells = [
            cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join([*lines, "", *summary_lines(results)])


def markdown_table(results: dict[str, Any]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for row in endpoint_rows(results):
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |")
    return "\n".join([*lines, "", *(f"- {line}" for line in summary_lines(results))])


def summary_lines(results: dict[str, Any]) -> list[str]:
    lines = []
    ingest = results.get("ingest") or {}
    bulk = ingest.get("bulk_api")
    if bulk:
        floor = bulk.get("copy_floor") or {}
        failed = bulk.get("failed_batches")
        if failed:
            lines.append(
                f"bulk API: {failed} of {-(-bulk['cases'] // bulk['batch'])} batches failed "
                f"(first error: {bulk['errors'][0][:120]}); cases/s counts stored cases only"
            )
        lines.append(
            f"bulk API: {bulk['cases_per_s']:,} cases/s ({bulk['cases']:,} cases, "
            f"{bulk['batch']}-case batches, {bulk['clients']} clients; batch median "
            f"{_fmt(bulk['batch_ms_median'])} ms) — COPY floor "
            f"{_fmt(floor.get('cases_with_events_per_s'), 0)} cases/s with their events, "
            f"{_fmt(floor.get('cases_rows_per_s'), 0)} cases/s alone; target ≥ {TARGET_BULK:,}"
        )
    imported = ingest.get("csv_import")
    if imported:
        floor = imported.get("copy_floor") or {}
        lines.append(
            f"CSV import: {imported['rows_per_s']:,} rows/s ({imported['rows']:,} rows, "
            f"{imported['seconds']} s, Python CPU {imported['python_cpu_s']} s) — COPY floor "
            f"{_fmt(floor.get('cases_with_events_per_s'), 0)} rows/s with their events, "
            f"{_fmt(floor.get('cases_rows_per_s'), 0)} rows/s alone; target ≥ {TARGET_CSV:,}"
        )
    errors = results.get("percentile_errors")
    if errors and errors.get("rows"):
        worst = errors["worst"]
        lines.append(
            "response/resolution time median and p90 from the duration rollup: worst "
            f"relative error {'n/a' if worst is None else f'{worst:.3%}'} against "
            f"percentile_cont over {len(errors['rows'])} figures; bound {errors['bound']:.2%}"
        )
    memory = results.get("memory")
    if memory:
        lines.append(
            f"gunicorn peak RSS: worker {memory['worker_peak_mb']} MB (each: "
            f"{', '.join(str(m) for m in memory['workers_peak_mb'])}), master "
            f"{memory['master_peak_mb']} MB, all together {memory['total_peak_mb']} MB; "
            f"target < {TARGET_RSS_MB:.0f} MB"
        )
    return lines

"""Copy-studio benchmark over the briefs in tests/data/briefs. Prints JSON, writes bench/results/studio.json.

    python bench/studio.py [--variants 3] [--briefs tests/data/briefs] [--model qwen2.5-coder-1.5b] [--limit N]

Reports the share of final variants meeting every hard constraint (target >= 95 %), mean keyword
coverage, mean seconds per final variant (wall clock, includes the extra candidates and
regenerations: what a user waits), per content type, and the most common problems. Other programs
on the machine slow the wall clock down, so the load average at the start and the end is recorded,
and the process CPU time per variant too (what the generation itself costs, much less sensitive to
other jobs).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.core.config import LLMSettings  # noqa: E402
from app.studio.brief import load_brief  # noqa: E402
from app.studio.generate import generate_variants  # noqa: E402
from engines.llm.llama_cpp import LlamaCppLLM  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=3)
    parser.add_argument("--briefs", type=Path, default=ROOT / "tests" / "data" / "briefs")
    parser.add_argument("--model", default=LLMSettings().model,
                        help="shipped model name or GGUF path (default: the app's)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N briefs (0 = all)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "studio.json")
    args = parser.parse_args()

    load_start = os.getloadavg()[0]
    started = time.perf_counter()
    llm = LlamaCppLLM(LLMSettings(model=args.model))
    load_s = time.perf_counter() - started
    files = sorted(args.briefs.glob("*.toml"))
    if args.limit:
        files = files[: args.limit]
    per_type: dict[str, dict[str, Any]] = defaultdict(lambda: {"variants": 0, "pass": 0, "coverage": 0.0,
                                                              "seconds": 0.0, "cpu": 0.0})
    problems: Counter[str] = Counter()
    total = passing = 0
    coverage_sum = seconds_sum = cpu_sum = 0.0
    for path in files:
        brief = load_brief(path)
        t0, c0 = time.perf_counter(), time.process_time()
        variants = generate_variants(brief, llm, n=args.variants)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        row = per_type[brief.type]
        for variant in variants:
            total += 1
            passing += variant.passes
            coverage_sum += variant.analysis.keyword_coverage
            row["variants"] += 1
            row["pass"] += variant.passes
            row["coverage"] += variant.analysis.keyword_coverage
            problems.update(p.code + (" (hard)" if p.hard else "") for p in variant.problems)
        row["seconds"] += elapsed
        row["cpu"] += cpu
        seconds_sum += elapsed
        cpu_sum += cpu
        print(f"{path.name}: {sum(v.passes for v in variants)}/{len(variants)} pass, "
              f"{elapsed / len(variants):.1f}s/variant", file=sys.stderr)
    result = {
        "bench": "studio",
        "model": str(llm.model_path.name),
        "n_threads": llm.n_threads,
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "briefs": len(files),
        "variants_per_brief": args.variants,
        "variants": total,
        "hard_constraints_met": round(passing / max(total, 1), 3),
        "keyword_coverage": round(coverage_sum / max(total, 1), 3),
        "seconds_per_variant": round(seconds_sum / max(total, 1), 2),
        "cpu_seconds_per_variant": round(cpu_sum / max(total, 1), 2),
        "load_average_1min": [round(load_start, 2), round(os.getloadavg()[0], 2)],
        "model_load_s": round(load_s, 2),
        "by_type": {
            key: {"variants": r["variants"], "hard_constraints_met": round(r["pass"] / max(r["variants"], 1), 3),
                  "keyword_coverage": round(r["coverage"] / max(r["variants"], 1), 3),
                  "seconds_per_variant": round(r["seconds"] / max(r["variants"], 1), 2),
                  "cpu_seconds_per_variant": round(r["cpu"] / max(r["variants"], 1), 2)}
            for key, r in sorted(per_type.items())
        },
        "problems": dict(problems.most_common(12)),
    }
    text = json.dumps(result, indent=2)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()

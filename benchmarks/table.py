"""Table benchmark: reading and planning a batch from a table, against baselines measured in the same run.

    python benchmarks/table.py [--rows 100000] [--plan-rows 2000]

Reading: ``read_table`` over a CSV of N rows against ``csv.DictReader`` over the same file (the floor:
parsing alone), and the peak memory of each (tracemalloc), which stays flat for ``read_table``
because rows stream. Planning: ``plan_jobs`` for a recipe whose table names M pictures against the
same recipe listing the same M pictures inline (the table's extra cost per row: the row check and
the picture lookup). Targets: reading under 5x the floor; planning from a table under 1.5x inline.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from joypix_recipes.recipe import load_recipe  # noqa: E402
from joypix_recipes.recipe.plan import plan_jobs  # noqa: E402
from joypix_recipes.recipe.table import read_table  # noqa: E402

STEPS = "steps:\n  - text: {content: '{{ vars.title }}'}\nexport: {output: '{{ vars.sku }}.mp4'}\n"


def _timed(work: Callable[[], object]) -> tuple[float, int]:
    """Seconds of one call, and the peak traced bytes of another (tracing slows Python down several times)."""
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    work()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds, peak


def _seconds(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _count_rows(path: Path) -> int:
    return sum(1 for _ in read_table(path))


def _count_dict_rows(path: Path) -> int:
    with path.open(newline="", encoding="utf-8") as file:
        return sum(1 for _ in csv.DictReader(file))


def _whole_rows(path: Path) -> int:
    with path.open(newline="", encoding="utf-8") as file:
        return len(list(csv.DictReader(file)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--plan-rows", type=int, default=2_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        big = folder / "big.csv"
        big.write_text("sku,image,title\n" + "".join(f"S{n},a.jpg,Title {n}\n" for n in range(args.rows)))
        ours, our_peak = _timed(lambda: _count_rows(big))
        floor, floor_peak = _timed(lambda: _count_dict_rows(big))
        _, whole_peak = _timed(lambda: _whole_rows(big))
        print(f"read {args.rows} rows: read_table {ours:.2f} s, csv.DictReader {floor:.2f} s, ratio {ours / floor:.2f}x")
        print(
            f"peak memory: read_table {our_peak / 1e6:.1f} MB, DictReader streamed {floor_peak / 1e6:.1f} MB, "
            f"DictReader into a list {whole_peak / 1e6:.1f} MB"
        )

        pictures = folder / "pictures"
        pictures.mkdir()
        names = [f"p{n}.jpg" for n in range(args.plan_rows)]
        for name in names:
            (pictures / name).write_bytes(b"")  # planning looks pictures up by name only
        (pictures / "t.csv").write_text("sku,image,title\n" + "".join(f"S{n},{name},T{n}\n" for n, name in enumerate(names)))
        (folder / "table.yaml").write_text(f"version: 1\ninputs:\n  - table: pictures/t.csv\n{STEPS}")
        inline = "".join(f"  - {{path: pictures/{name}, vars: {{sku: S{n}, title: T{n}}}}}\n" for n, name in enumerate(names))
        (folder / "inline.yaml").write_text(f"version: 1\ninputs:\n{inline}{STEPS}")
        out = folder / "out"
        table_recipe, inline_recipe = load_recipe(folder / "table.yaml"), load_recipe(folder / "inline.yaml")
        from_table = _seconds(lambda: plan_jobs(table_recipe, out_dir=out))
        from_inline = _seconds(lambda: plan_jobs(inline_recipe, out_dir=out))
        print(
            f"plan {args.plan_rows} jobs: from a table {from_table:.2f} s, inline {from_inline:.2f} s, "
            f"ratio {from_table / from_inline:.2f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

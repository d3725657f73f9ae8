"""Run every bench/bench_*.py in its own process; each prints one JSON object per line.

Usage: python bench/run.py [name-substring ...]
"""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if argv:
        scripts = [s for s in scripts if any(a in s.stem for a in argv)]
    failed = 0
    for script in scripts:
        result = subprocess.run([sys.executable, str(script)], cwd=HERE.parent)  # noqa: S603
        if result.returncode != 0:
            print(f'{{"name": "{script.stem}", "error": "exit {result.returncode}"}}', flush=True)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

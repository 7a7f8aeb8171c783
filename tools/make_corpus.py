"""Regenerate the text corpora and vocabularies in data/ (see data/README.md).

    python tools/make_corpus.py              # writes data/corpus_*.txt, data/vocab_*.json
    python tools/make_corpus.py --out DIR    # writes them somewhere else
    python tools/make_corpus.py --check      # compares with data/, writes nothing

Everything comes from course_lib.text with fixed seeds: no download, no
randomness from the clock. tests/test_text.py checks that the committed files
are reproduced byte for byte.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from course_lib.text.corpus import DATA_DIR, corpus_files, write_corpus_files  # noqa: E402


def check(data_dir: Path) -> int:
    """Print which files differ from what the generator makes; 0 if none."""
    stale = [name for name, content in corpus_files().items()
             if not (data_dir / name).is_file() or (data_dir / name).read_bytes() != content]
    for name in stale:
        print(f"differs: {data_dir / name}")
    print("all files up to date" if not stale else f"{len(stale)} file(s) differ")
    return 1 if stale else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="output folder (default: data/)")
    parser.add_argument("--check", action="store_true", help="compare only, write nothing")
    args = parser.parse_args(argv)
    if args.check:
        return check(args.out)
    for path in write_corpus_files(args.out):
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

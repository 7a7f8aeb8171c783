"""Write data/digits.npz from the copy of the UCI digits that scikit-learn ships (see data/README.md).

    python tools/make_digits.py            # writes data/digits.npz
    python tools/make_digits.py --out F    # writes F instead
    python tools/make_digits.py --check    # compares with data/digits.npz, writes nothing

The 1,797 8x8 images (values 0..16) of the UCI "Optical Recognition of Handwritten
Digits" data set (Alpaydin & Kaynak, 1998; DOI 10.24432/C50P49; CC BY 4.0), as
``sklearn.datasets.load_digits`` reads them from a file inside the scikit-learn
package: no network. scikit-learn is NOT a dependency of the course: run this with
a throwaway interpreter that has it, e.g.

    python3 -m venv /tmp/skvenv && /tmp/skvenv/bin/pip install scikit-learn numpy
    /tmp/skvenv/bin/python tools/make_digits.py --check

The course itself only reads the file (``course_lib.datasets.load_digits``).
"""
from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np

DATA_PATH = Path(__file__).resolve().parents[1] / "data" / "digits.npz"
N_IMAGES, SIDE, MAX_VALUE = 1797, 8, 16


def digits_from_sklearn() -> tuple[np.ndarray, np.ndarray]:
    """``(images uint8 (1797, 8, 8), labels uint8 (1797,))`` from the installed scikit-learn."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise SystemExit(
            "make_digits: needs scikit-learn (not a course dependency); run it with a throwaway venv:\n"
            "  python3 -m venv /tmp/skvenv && /tmp/skvenv/bin/pip install scikit-learn numpy\n"
            "  /tmp/skvenv/bin/python tools/make_digits.py --check"
        ) from None
    bunch = load_digits()
    images, labels = np.asarray(bunch.images), np.asarray(bunch.target)
    # What the file promises: 1797 images of integers 0..16, labels 0..9.
    if images.shape != (N_IMAGES, SIDE, SIDE) or labels.shape != (N_IMAGES,):
        raise SystemExit(f"make_digits: unexpected shapes {images.shape}, {labels.shape} from scikit-learn")
    if not (np.array_equal(images, np.round(images)) and images.min() >= 0 and images.max() <= MAX_VALUE):
        raise SystemExit("make_digits: scikit-learn's digits are not integers in 0..16")
    if not (labels.min() >= 0 and labels.max() <= 9):
        raise SystemExit("make_digits: scikit-learn's labels are not in 0..9")
    return images.astype(np.uint8), labels.astype(np.uint8)


def npz_bytes(images: np.ndarray, labels: np.ndarray) -> bytes:
    """The file's content: ``np.savez_compressed`` of the two arrays (deterministic for one numpy)."""
    buf = io.BytesIO()
    np.savez_compressed(buf, images=images, labels=labels)
    return buf.getvalue()


def read_npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with np.load(path) as f:
        if sorted(f.files) != ["images", "labels"]:
            raise ValueError(f"{path}: expected arrays 'images' and 'labels', got {sorted(f.files)}")
        return f["images"], f["labels"]


def check(path: Path, images: np.ndarray, labels: np.ndarray) -> int:
    """Compare the stored file with fresh arrays; 0 if the arrays are identical (dtype included)."""
    if not path.is_file():
        print(f"missing: {path}")
        return 1
    stored_images, stored_labels = read_npz(path)
    same = all(a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
               for a, b in ((stored_images, images), (stored_labels, labels)))
    if not same:
        print(f"differs: {path}")
        return 1
    if path.read_bytes() == npz_bytes(images, labels):
        print(f"up to date: {path} (same arrays, same bytes)")
    else:  # e.g. another numpy or zlib version compresses differently
        print(f"up to date: {path} (same arrays; this numpy writes different bytes, sha256 would differ)")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DATA_PATH, help="output file (default: data/digits.npz)")
    parser.add_argument("--check", action="store_true", help="compare only, write nothing")
    args = parser.parse_args(argv)
    images, labels = digits_from_sklearn()
    if args.check:
        return check(args.out, images, labels)
    args.out.write_bytes(npz_bytes(images, labels))
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

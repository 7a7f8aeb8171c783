"""Static checks of every committed notebook (no kernel needed).

nbval (run by `make test`) re-executes the notebooks and compares outputs; these
checks catch what nbval cannot see or reports badly: a notebook saved from an
out-of-order session, stripped outputs, leaked warnings, full-precision floats,
widget cells without the nbval-ignore-output tag, a missing README entry, a
solution cell without its exercise, code that would reach the network.
Every failure names the notebook and the cell index (0-based, as in the file).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
README = ROOT / "README.md"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))

FILENAME = re.compile(r"^(?P<number>\d\d)_[a-z0-9_]+\.ipynb$")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
# A float printed with its full repr: 10 or more digits after the decimal point,
# e.g. 0.1234567890123 or 1.2345678901234567e-05. Rounded prints (f"{x:.4f}") never match.
LONG_FLOAT = re.compile(r"(?<![\w.])[-+]?\d+\.\d{10,}")
# Text output fields in which a reader sees numbers (images and widget JSON excluded).
TEXT_MIMES = ("text/plain", "text/markdown", "text/latex")
WARNING_LINE = re.compile(r"\b\w*(Warning|Error)\b:")
# Code that would fetch something from the network; the course never downloads.
NETWORK_CALLS = re.compile(
    r"urlopen\s*\(|urlretrieve\s*\(|urllib\.request|http\.client|\brequests\.|^\s*import\s+requests\b|"
    r"^\s*from\s+requests\b|\bhttpx\b|\baiohttp\b|\bsocket\.|^\s*[!%]\s*(pip|wget|curl|conda)\b|"
    r"\bload_dataset\s*\(|\.from_pretrained\s*\(|\bhf_hub_download\b|\bsnapshot_download\b",
    re.MULTILINE,
)
URL = re.compile(r"https?://")


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _is_solution(cell) -> bool:
    return bool(cell.get("metadata", {}).get("jupyter", {}).get("source_hidden"))


def _text_fields(output) -> list[str]:
    """The text a reader sees in one output (streams and text MIME types)."""
    if output.get("output_type") == "stream":
        return [output.get("text", "")]
    data = output.get("data", {})
    out = []
    for mime in TEXT_MIMES:
        value = data.get(mime)
        if value is not None:
            out.append(value if isinstance(value, str) else "".join(value))
    return out


def find_long_floats(text: str) -> list[str]:
    return [m.group(0) for m in LONG_FLOAT.finditer(text)]


def _code_cells(nb):
    return [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]


def _read(path: Path):
    return nbformat.read(path, as_version=nbformat.NO_CONVERT)


def _fail(path: Path, problems: list[str]) -> None:
    if problems:
        pytest.fail(f"{path.name}:\n  " + "\n  ".join(problems), pytrace=False)


# ------------------------------------------------------------------------------------------


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR}"


nb_param = pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])


@nb_param
def test_valid_nbformat_and_kernel(path):
    nb = _read(path)
    problems = []
    if nb.nbformat != 4:
        problems.append(f"nbformat {nb.nbformat}, expected 4")
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        problems.append(f"not a valid notebook: {exc.message}")
    name = nb.metadata.get("kernelspec", {}).get("name")
    if name != "python3":
        problems.append(f"kernelspec name is {name!r}, expected 'python3' (metadata.kernelspec.name)")
    _fail(path, problems)


@nb_param
def test_filename_title_and_readme(path):
    problems = []
    m = FILENAME.match(path.name)
    if not m:
        problems.append(r"file name must match ^\d\d_[a-z0-9_]+\.ipynb$ (e.g. 01_linear_layer.ipynb)")
    nb = _read(path)
    first = nb.cells[0] if nb.cells else None
    if first is None or first.cell_type != "markdown":
        problems.append("cell 0 must be a markdown cell with the title '# NN · Title (用語)'")
    elif m and not first.source.startswith(f"# {m['number']} · "):
        problems.append(
            f"cell 0 must start with '# {m['number']} · ' (number, space, middle dot U+00B7, space); "
            f"it starts with {first.source[:30]!r}"
        )
    if not README.is_file():
        problems.append("README.md is missing")
    elif path.name not in README.read_text(encoding="utf-8"):
        problems.append(f"README.md does not mention {path.name} (add it to the table of notebooks)")
    _fail(path, problems)


@nb_param
def test_executed_top_to_bottom(path):
    """Restart & Run All leaves execution counts 1..n, in order, on every code cell."""
    nb = _read(path)
    problems = []
    cells = _code_cells(nb)
    for i, cell in cells:
        if not cell.source.strip():
            problems.append(f"cell {i}: empty code cell (delete it; Jupyter does not execute empty cells)")
    counts = [c.execution_count for _, c in cells]
    expected = list(range(1, len(cells) + 1))
    if counts != expected:
        for (i, cell), want in zip(cells, expected):
            if cell.execution_count != want:
                problems.append(
                    f"cell {i}: execution count {cell.execution_count}, expected {want} "
                    f"(re-run with `make notebooks` or Restart Kernel and Run All, then save)"
                )
                break
    for i, cell in cells:
        for out in cell.outputs:
            if out.output_type == "execute_result" and out.get("execution_count") != cell.execution_count:
                problems.append(
                    f"cell {i}: output saved with execution count {out.get('execution_count')} "
                    f"but the cell has {cell.execution_count}"
                )
    if cells and not any(c.outputs for _, c in cells):
        problems.append("no code cell has outputs: commit the notebook with the outputs of a clean run")
    for i, cell in cells:
        shows_figure = re.search(r"^plt\.show\(\)", cell.source, re.MULTILINE)
        if shows_figure and not any("image/png" in o.get("data", {}) for o in cell.outputs):
            problems.append(f"cell {i}: calls plt.show() but has no saved image/png output")
    _fail(path, problems)


@nb_param
def test_no_errors_or_warnings_in_outputs(path):
    nb = _read(path)
    problems = []
    for i, cell in _code_cells(nb):
        allowed = "raises-exception" in _tags(cell)
        for out in cell.outputs:
            if out.output_type == "error" and not allowed:
                problems.append(
                    f"cell {i}: error output {out.get('ename')}: {out.get('evalue')} "
                    f"(fix it, or tag the cell raises-exception if the error is the lesson)"
                )
            if out.output_type == "stream" and out.get("name") == "stderr" and not allowed:
                lines = [ln for ln in out.get("text", "").splitlines() if WARNING_LINE.search(ln)]
                if lines:
                    problems.append(
                        f"cell {i}: a warning leaked into the output: {lines[0].strip()[:160]!r} "
                        f"(fix the cause, or catch it and print a deterministic message)"
                    )
    _fail(path, problems)


@nb_param
def test_printed_floats_are_rounded(path):
    nb = _read(path)
    problems = []
    for i, cell in _code_cells(nb):
        if "nbval-ignore-output" in _tags(cell):
            continue
        for out in cell.outputs:
            for text in _text_fields(out):
                found = find_long_floats(text)
                if found:
                    problems.append(
                        f"cell {i}: full-precision float {found[0]!r} in the output; "
                        f"print rounded values (f\"{{x:.4f}}\", np.round, np.set_printoptions(precision=4))"
                    )
                    break
    _fail(path, problems)


@nb_param
def test_widget_cells_are_ignored_by_nbval(path):
    nb = _read(path)
    problems = []
    for i, cell in _code_cells(nb):
        widgets = [o for o in cell.outputs if WIDGET_MIME in o.get("data", {})]
        # course_lib.progress.Progress bars are the exception: their text/plain twin is
        # fixed at display time, so nbval can still compare the cell (and its summary line).
        only_progress = all(_is_progress_bar(o) for o in widgets)
        if widgets and not only_progress and "nbval-ignore-output" not in _tags(cell):
            problems.append(f"cell {i}: displays a widget but lacks the tag 'nbval-ignore-output'")
        if widgets and only_progress and "nbval-ignore-output" in _tags(cell):
            problems.append(
                f"cell {i}: shows only Progress bars, whose saved text is deterministic; remove the tag "
                f"'nbval-ignore-output' so nbval compares the cell's summary line"
            )
    _fail(path, problems)


def _is_progress_bar(output) -> bool:
    text = output.get("data", {}).get("text/plain", "")
    text = "".join(text) if isinstance(text, list) else text
    return text.startswith("HBox(children=(IntProgress(value=0,")


@nb_param
def test_solutions_follow_their_exercise(path):
    """A collapsed solution cell follows a visible code cell (the exercise) since the last solution."""
    nb = _read(path)
    problems = []
    exercise_seen = False
    for i, cell in enumerate(nb.cells):
        if _is_solution(cell):
            if cell.cell_type != "code":
                problems.append(f"cell {i}: source_hidden is set on a {cell.cell_type} cell; only solution code cells are collapsed")
            elif not exercise_seen:
                problems.append(
                    f"cell {i}: solution cell (source_hidden) without a visible exercise code cell before it"
                )
            exercise_seen = False
        elif cell.cell_type == "code":
            exercise_seen = True
    _fail(path, problems)


@nb_param
def test_no_network_access(path):
    nb = _read(path)
    problems = []
    for i, cell in _code_cells(nb):
        for line in cell.source.splitlines():
            code = line.split("#", 1)[0]  # a URL in a comment is a citation, not a fetch
            if NETWORK_CALLS.search(code) or URL.search(code):
                problems.append(
                    f"cell {i}: code that may reach the network: {line.strip()[:120]!r} "
                    f"(the course never downloads: generate data with course_lib or ship it in data/)"
                )
    _fail(path, problems)


# ------------------------------------------------------------------------------------------
# The detectors themselves


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("loss = 0.123456789012", ["0.123456789012"]),
        ("1.2345678901234567e-05", ["1.2345678901234567"]),
        ("[ 0.1234567890123 -2.0000000000001]", ["0.1234567890123", "-2.0000000000001"]),
        ("loss = 0.1235", []),
        ("loss 1.23456789", []),  # 8 decimals: allowed
        ("<Figure size 640x480 with 1 Axes>", []),
        ("version 1.26.4 and ip 10.0.0.1", []),
        ("step 1000/1000 · loss 0.0421 · 12345678901234 tokens", []),
        ("id v1.0123456789012", []),  # inside an identifier, not a printed float
    ],
)
def test_long_float_detector(text, expected):
    assert find_long_floats(text) == expected


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        ("from urllib.request import urlopen\nurlopen('https://example.org')", True),
        ("import requests\nr = requests.get(url)", True),
        ("!pip install torch", True),
        ("x = np.zeros(3)  # see https://numpy.org/doc", False),
        ("# Reference: https://arxiv.org/abs/1706.03762", False),
        ("url = 'https://example.org/data.csv'", True),
        ("text = corpus.split()", False),
    ],
)
def test_network_detector(source, flagged, tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    path = tmp_path / "00_probe.ipynb"
    nbformat.write(nb, path)
    if flagged:
        with pytest.raises(pytest.fail.Exception, match="may reach the network"):
            test_no_network_access(path)
    else:
        test_no_network_access(path)

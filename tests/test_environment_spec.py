"""pyproject.toml and environment.yml must declare the same dependencies.

Both files are parsed offline. Every spec must be valid (``packaging``), every
package must carry the same lower bound in both files, conda's ``python`` entry
must start where ``requires-python`` starts, and the conda file must install the
course itself with ``pip: [-e .]``.

The comparison is a pure function of the two parsed files, so the tests below
can also feed it deliberately broken pairs and prove that it fails.
"""

from __future__ import annotations

import copy
import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
ENVIRONMENT = ROOT / "environment.yml"

# The optional-dependency groups that environment.yml installs besides the runtime set.
# Not `browser` (Playwright, for `make test-browser` / `make gallery` only): those tests
# also need a system Chromium that conda does not provide, they run from .venv through
# the Makefile, and Binder (which builds from environment.yml) never runs them. Extras
# not listed here are not compared.
EXTRAS_IN_CONDA_ENV = ("test",)
# Conda entries that are tooling of the environment itself, not course dependencies.
CONDA_TOOLING = {"pip"}
# Conda-forge names that differ from the PyPI name of the same package.
CONDA_TO_PYPI = {"matplotlib-base": "matplotlib"}
EDITABLE_INSTALL = {"-e .", "--editable .", "-e ./", "--editable ./"}

# conda's `name=1.2` means "1.2.*" (PEP 440: `name==1.2.*`)
_CONDA_SINGLE_EQ = re.compile(r"^(?P<name>[A-Za-z0-9_.\-]+)\s*=(?P<version>[0-9][0-9A-Za-z.]*)$")


def load_pyproject(path: Path = PYPROJECT) -> dict:
    with open(path, "rb") as f:
        return tomllib.load(f)


def load_environment(path: Path = ENVIRONMENT) -> dict:
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def conda_spec_to_pep508(spec: str) -> str:
    """Translate the one conda MatchSpec form PEP 508 lacks: `name=1.2` -> `name==1.2.*`."""
    m = _CONDA_SINGLE_EQ.match(spec.strip())
    if m:
        return f"{m['name']}=={m['version']}.*"
    return spec.strip()


def lower_bound(specifier: SpecifierSet) -> Version | None:
    """The smallest version a specifier set admits, for the forms the project uses."""
    bounds = []
    for spec in specifier:
        if spec.operator in (">=", "~=", "==", "==="):
            bounds.append(Version(spec.version.removesuffix(".*")))
    return max(bounds) if bounds else None


def _parse(spec, where: str, problems: list[str]) -> Requirement | None:
    if not isinstance(spec, str):
        problems.append(f"{where}: expected a requirement string, got {spec!r}")
        return None
    try:
        req = Requirement(spec)
    except InvalidRequirement as exc:
        problems.append(f"{where}: invalid spec {spec!r}: {exc}")
        return None
    if req.marker is not None or req.url is not None:
        problems.append(f"{where}: {spec!r}: markers and URLs are not used in this project")
    return req


def _collect(reqs: list[tuple[str, Requirement]], where: str, problems: list[str]) -> dict[str, Requirement]:
    out: dict[str, Requirement] = {}
    for _, req in reqs:
        name = canonicalize_name(CONDA_TO_PYPI.get(req.name.lower(), req.name))
        if name in out:
            problems.append(f"{where}: {name!r} is listed twice")
        out[name] = req
    return out


def compare_dependency_specs(pyproject: dict, environment: dict) -> list[str]:
    """Return every disagreement between the parsed pyproject.toml and environment.yml.

    An empty list means the two files agree.
    """
    problems: list[str] = []
    project = pyproject.get("project", {})

    # --- pyproject.toml ---------------------------------------------------------------
    py_reqs: list[tuple[str, Requirement]] = []
    groups = [("[project] dependencies", project.get("dependencies", []))]
    extras = project.get("optional-dependencies", {})
    for extra in EXTRAS_IN_CONDA_ENV:
        if extra not in extras:
            problems.append(f"pyproject.toml: [project.optional-dependencies] has no {extra!r} extra")
        groups.append((f"[project.optional-dependencies] {extra}", extras.get(extra, [])))
    for group, specs in groups:
        for spec in specs:
            req = _parse(spec, f"pyproject.toml {group}", problems)
            if req is None:
                continue
            if lower_bound(req.specifier) is None:
                problems.append(f"pyproject.toml {group}: {spec!r} has no lower bound (write e.g. '{req.name}>=X.Y')")
            py_reqs.append((spec, req))
    py_deps = _collect(py_reqs, "pyproject.toml", problems)

    requires_python = project.get("requires-python")
    py_min = None
    if requires_python is None:
        problems.append("pyproject.toml: [project] has no requires-python")
    else:
        try:
            py_min = lower_bound(SpecifierSet(requires_python))
        except Exception as exc:  # InvalidSpecifier
            problems.append(f"pyproject.toml: invalid requires-python {requires_python!r}: {exc}")
        else:
            if py_min is None:
                problems.append(f"pyproject.toml: requires-python {requires_python!r} has no lower bound")

    # --- environment.yml --------------------------------------------------------------
    if not isinstance(environment, dict):
        return problems + [f"environment.yml: expected a mapping at top level, got {type(environment).__name__}"]
    if "conda-forge" not in (environment.get("channels") or []):
        problems.append("environment.yml: channels must include conda-forge")
    conda_reqs: list[tuple[str, Requirement]] = []
    pip_sections = []
    python_req = None
    has_pip = False
    for entry in environment.get("dependencies") or []:
        if isinstance(entry, dict):
            if set(entry) != {"pip"}:
                problems.append(f"environment.yml: unexpected mapping in dependencies: {entry!r}")
                continue
            pip_sections.append(entry["pip"] or [])
            continue
        req = _parse(conda_spec_to_pep508(entry) if isinstance(entry, str) else entry,
                     "environment.yml dependencies", problems)
        if req is None:
            continue
        if canonicalize_name(req.name) == "python":
            python_req = (entry, req)
        elif canonicalize_name(req.name) in CONDA_TOOLING:
            has_pip = has_pip or canonicalize_name(req.name) == "pip"
        else:
            conda_reqs.append((entry, req))

    if pip_sections and not has_pip:
        problems.append("environment.yml: has a pip: section but does not list 'pip' itself among the conda dependencies")

    pip_entries = [str(line).strip() for section in pip_sections for line in section]
    if not any(line in EDITABLE_INSTALL for line in pip_entries):
        problems.append("environment.yml: the pip: section must contain '-e .' so that course_lib is installed")
    for line in pip_entries:
        if line in EDITABLE_INSTALL:
            continue
        req = _parse(line, "environment.yml pip:", problems)
        if req is not None:
            conda_reqs.append((line, req))
    conda_deps = _collect(conda_reqs, "environment.yml", problems)

    # --- python -----------------------------------------------------------------------
    if python_req is None:
        problems.append(f"environment.yml: no 'python' entry (pyproject.toml requires-python = {requires_python!r})")
    elif py_min is not None:
        entry, req = python_req
        conda_min = lower_bound(req.specifier)
        if conda_min != py_min or not req.specifier.contains(py_min, prereleases=True):
            problems.append(
                f"python: environment.yml has {entry!r} (lowest version {conda_min}) but pyproject.toml "
                f"requires-python = {requires_python!r} (lowest version {py_min}); they must start at the same version"
            )

    # --- the two dependency sets ------------------------------------------------------
    for name in sorted(py_deps.keys() - conda_deps.keys()):
        problems.append(f"{name}: in pyproject.toml ({str(py_deps[name])!r}) but missing from environment.yml")
    for name in sorted(conda_deps.keys() - py_deps.keys()):
        problems.append(f"{name}: in environment.yml ({str(conda_deps[name])!r}) but missing from pyproject.toml")
    for name in sorted(py_deps.keys() & conda_deps.keys()):
        a, b = py_deps[name].specifier, conda_deps[name].specifier
        if a != b or lower_bound(a) != lower_bound(b):
            problems.append(
                f"{name}: pyproject.toml says {str(a) or '(no bound)'!r} but environment.yml says "
                f"{str(b) or '(no bound)'!r}; use the same lower bound in both"
            )
    return problems


# ------------------------------------------------------------------------------------------
# The real files


def test_pyproject_and_environment_agree():
    problems = compare_dependency_specs(load_pyproject(), load_environment())
    assert not problems, "pyproject.toml and environment.yml disagree:\n  " + "\n  ".join(problems)


def test_environment_name_and_channel():
    env = load_environment()
    assert env.get("name") == "llm-course", f"environment.yml: name should be 'llm-course', got {env.get('name')!r}"
    assert env.get("channels") == ["conda-forge"], f"environment.yml: channels should be [conda-forge], got {env.get('channels')!r}"


def test_pyproject_packages_course_lib():
    find = load_pyproject()["tool"]["setuptools"]["packages"]["find"]
    assert "course_lib*" in find.get("include", []), "pyproject.toml must package course_lib (packages.find include)"
    assert (ROOT / "course_lib" / "__init__.py").is_file(), "course_lib/__init__.py is missing"


# ------------------------------------------------------------------------------------------
# The comparison itself must be able to fail.

GOOD_PYPROJECT = {
    "project": {
        "requires-python": ">=3.11",
        "dependencies": ["numpy>=1.26", "PyYAML>=6"],
        "optional-dependencies": {"test": ["pytest>=8"]},
    }
}
GOOD_ENVIRONMENT = {
    "name": "llm-course",
    "channels": ["conda-forge"],
    "dependencies": ["python=3.11", "pip", "numpy>=1.26", "pyyaml>=6.0", "pytest>=8", {"pip": ["-e ."]}],
}


def test_good_pair_passes():
    assert compare_dependency_specs(GOOD_PYPROJECT, GOOD_ENVIRONMENT) == []
    # `python>=3.11` is as good as `python=3.11`
    env = copy.deepcopy(GOOD_ENVIRONMENT)
    env["dependencies"][0] = "python>=3.11"
    assert compare_dependency_specs(GOOD_PYPROJECT, env) == []


def _broken_env(index, value):
    env = copy.deepcopy(GOOD_ENVIRONMENT)
    if value is None:
        del env["dependencies"][index]
    else:
        env["dependencies"][index] = value
    return env


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        (_broken_env(2, "numpy>=1.25"), "numpy: pyproject.toml says '>=1.26' but environment.yml says '>=1.25'"),
        (_broken_env(2, "numpy"), "numpy: pyproject.toml says '>=1.26' but environment.yml says '(no bound)'"),
        (_broken_env(2, None), "numpy: in pyproject.toml ('numpy>=1.26') but missing from environment.yml"),
        (_broken_env(2, "numpy>>1.26"), "invalid spec 'numpy>>1.26'"),
        (_broken_env(0, "python>=3.10"), "python: environment.yml has 'python>=3.10'"),
        (_broken_env(0, "python=3.12"), "python: environment.yml has 'python=3.12'"),
        (_broken_env(0, None), "environment.yml: no 'python' entry"),
        (_broken_env(5, {"pip": ["course_lib"]}), "must contain '-e .'"),
        (_broken_env(5, {"pip": ["-e .", "torch>=2"]}), "torch: in environment.yml ('torch>=2') but missing from pyproject.toml"),
        (_broken_env(1, "scipy>=1.11"), "scipy: in environment.yml ('scipy>=1.11') but missing from pyproject.toml"),
        (_broken_env(1, None), "does not list 'pip' itself"),
    ],
    ids=["lower-bound", "no-bound", "missing", "invalid", "python-lower", "python-other", "no-python", "no-editable",
         "pip-extra", "conda-extra", "no-pip"],
)
def test_mismatched_pair_fails(environment, expected):
    problems = compare_dependency_specs(GOOD_PYPROJECT, environment)
    assert problems, "a mismatched pair passed the comparison"
    assert any(expected in p for p in problems), f"expected a problem containing {expected!r}, got {problems}"


def test_pyproject_side_is_validated_too():
    py = copy.deepcopy(GOOD_PYPROJECT)
    py["project"]["optional-dependencies"]["test"] = ["pytest"]
    problems = compare_dependency_specs(py, GOOD_ENVIRONMENT)
    assert any("'pytest' has no lower bound" in p for p in problems), problems
    py = copy.deepcopy(GOOD_PYPROJECT)
    del py["project"]["optional-dependencies"]
    problems = compare_dependency_specs(py, GOOD_ENVIRONMENT)
    assert any("no 'test' extra" in p for p in problems), problems


def test_conda_single_equals_translation():
    assert conda_spec_to_pep508("python=3.11") == "python==3.11.*"
    assert conda_spec_to_pep508("numpy>=1.26") == "numpy>=1.26"
    assert lower_bound(SpecifierSet("==3.11.*")) == Version("3.11")
    assert lower_bound(SpecifierSet(">=6")) == lower_bound(SpecifierSet(">=6.0"))

"""Shared by the tests of course_lib.exercises: run a checker and capture its verdict."""


def verdict(checker, fn, capsys) -> str:
    """What ``checker(fn)`` prints; the checker itself must return None (nothing for a cell to echo)."""
    result = checker(fn)
    assert result is None  # nothing for a notebook cell to echo
    return capsys.readouterr().out

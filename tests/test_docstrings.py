"""Every public function and class of geosource has a complete numpydoc docstring.

The gate validates each object of ``geosource.__all__`` with numpydoc and fails listing every
one that misses a section a reader needs: a one-line summary, every parameter, what it returns
and an example that runs (the examples themselves run as doctests).
"""

from __future__ import annotations

import inspect
import textwrap

from numpydoc.validate import validate

import geosource as gs

#: The numpydoc checks the gate enforces, and what failing each means.
CHECKS: dict[str, str] = {
    "GL08": "no docstring",
    "SS01": "no summary",
    "SS06": "summary longer than one line",
    "PR01": "parameters not documented",
    "PR02": "documented parameters that do not exist",
    "RT01": "no Returns section",
    "EX01": "no Examples section",
}


def public_objects() -> list[str]:
    """Import paths of the functions and classes that ``geosource.__all__`` exports."""
    paths = []
    for name in gs.__all__:
        obj = getattr(gs, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            paths.append(f"{obj.__module__}.{obj.__qualname__}")
    return paths


def failed_checks(path: str) -> list[str]:
    """The gate's checks that the docstring of the object at ``path`` fails, in numpydoc order."""
    return [code for code, _ in validate(path)["errors"] if code in CHECKS]


def test_every_public_function_and_class_has_a_complete_docstring() -> None:
    problems = []
    for path in public_objects():
        messages = [
            f"{code} {CHECKS[code]}: {text}"
            for code, text in validate(path)["errors"]
            if code in CHECKS
        ]
        problems += [f"{path}: {m}" for m in messages]
    assert not problems, "incomplete numpydoc docstrings:\n" + "\n".join(problems)


def test_the_gate_covers_functions_and_classes_only() -> None:
    paths = public_objects()
    assert "geosource.sourcing.sourcing_paths" in paths
    assert "geosource.routing.RouteMatrix" in paths
    assert "geosource._searoute.load_ports" in paths  # re-exported from a private module
    # constants and the errors module are exported too but are not functions or classes
    assert not [p for p in paths if p.rsplit(".", 1)[1] in {"LAYER_KINDS", "MINERALS", "errors"}]
    assert len(paths) == len(set(paths))


# SYNTHETIC: a small module with one undocumented, one half-documented and one complete function,
# to show that the gate names each missing section and passes a complete docstring.
_FIXTURE = '''
def bare(a, b):
    return a + b


def partial(a, b):
    """Add two numbers,
    and say so on two lines.

    Parameters
    ----------
    a
        A number.
    c
        Not a parameter of the function.
    """
    return a + b


def complete(a):
    """Double a number.

    Parameters
    ----------
    a
        A number.

    Returns
    -------
    float
        Twice ``a``.

    Examples
    --------
    >>> complete(2)
    4
    """
    return 2 * a
'''


def test_the_gate_names_each_missing_section(tmp_path, monkeypatch) -> None:
    (tmp_path / "gs_docstring_fixture.py").write_text(textwrap.dedent(_FIXTURE), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert failed_checks("gs_docstring_fixture.bare") == ["GL08"]
    assert failed_checks("gs_docstring_fixture.partial") == ["SS06", "PR01", "PR02", "RT01", "EX01"]
    assert failed_checks("gs_docstring_fixture.complete") == []

"""The examples in the docs run: the package docstring and every Python
code block of python/README.md and of the README's Python section."""

import doctest
import pathlib
import re

import ebm

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_package_docstring():
    failures, tried = doctest.testmod(ebm, verbose=False)
    assert tried > 0 and failures == 0


def blocks(path):
    text = path.read_text()
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_python_blocks(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    found = 0
    for path in (ROOT / "README.md", ROOT / "python" / "README.md"):
        for code in blocks(path):
            if "mnist" in code.lower():  # needs the data set: the benchmark runs it
                continue
            exec(compile(code, f"{path.name}", "exec"), {})
            found += 1
    assert found >= 2

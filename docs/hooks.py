"""MkDocs hooks for the glmlogit site (registered in mkdocs.yml under ``hooks:``).

1. **Links out of docs/.**  Pages link to repository files outside ``docs/`` (``../examples/x.py``,
   ``../benchmarks/README.md``) so that they also work when read on a code host.  MkDocs cannot
   resolve those (a strict build fails), so each such file gets a generated page
   ``source/<path>.md`` showing its text, and the link is rewritten to point there.
2. **Working directory.**  The build runs from the repository root (``on_config``), where the
   executed code blocks find ``tests/reference/data/``.
3. **The validation table is regenerated.**  The table of R reference cases in ``validation.md``
   is replaced, at build time, by the output of ``docs/gen_validation.py`` (which fits every
   fixture as the tests do), so the published numbers are always the current code's.
   ``tests/test_docs.py`` checks that the committed page equals the generator's output too.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import re
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# [text](../some/path.ext#anchor): a relative link that starts by leaving its folder.
_LINK = re.compile(r"(\]\()((?:\.\./)+[^)#\s]+)(#[^)\s]*)?(\))")
_LANG = {".py": "python", ".R": "r", ".md": "markdown", ".toml": "toml", ".sh": "bash"}
SOURCE_DIR = "source"

VALIDATION_START = "| case | data (source) |"
VALIDATION_END = "Test tolerances (relative):"


def _outside_target(page_src: str, link: str) -> Path | None:
    """The repository file a relative link from docs/<page_src> points to, if outside docs/."""
    target = (DOCS / page_src).parent.joinpath(link).resolve()
    try:
        target.relative_to(DOCS)
        return None  # inside docs/: MkDocs handles it
    except ValueError:
        pass
    try:
        target.relative_to(ROOT)
    except ValueError:
        return None
    return target if target.is_file() else None


def _source_page(path: Path) -> str:
    rel = path.relative_to(ROOT).as_posix()
    lang = _LANG.get(path.suffix, "text")
    text = path.read_text(encoding="utf-8")
    fence = "````" if "```" in text else "```"
    return f"# `{rel}`\n\nThe file `{rel}` of the repository.\n\n{fence}{lang}\n{text}\n{fence}\n"


def on_config(config):
    """Run from the repository root, whatever the working directory: the executed code blocks
    read data files by paths relative to it (tests/reference/data/...)."""
    os.chdir(Path(config.config_file_path).resolve().parent)
    return config


def on_files(files, config):
    """Add a ``source/<path>.md`` page for every repository file linked from a page."""
    seen: set[Path] = set()
    for f in list(files):
        if not f.src_uri.endswith(".md") or f.src_uri.startswith(SOURCE_DIR + "/"):
            continue
        text = Path(f.abs_src_path).read_text(encoding="utf-8")
        for m in _LINK.finditer(text):
            target = _outside_target(f.src_uri, m.group(2))
            if target is not None and target not in seen:
                seen.add(target)
                uri = f"{SOURCE_DIR}/{target.relative_to(ROOT).as_posix()}.md"
                files.append(File.generated(config, uri, content=_source_page(target)))
    return files


def _rewrite_links(markdown: str, page_src: str) -> str:
    def repl(m: re.Match) -> str:
        target = _outside_target(page_src, m.group(2))
        if target is None:
            return m.group(0)
        uri = f"{SOURCE_DIR}/{target.relative_to(ROOT).as_posix()}.md"
        rel = os.path.relpath(DOCS / uri, (DOCS / page_src).parent).replace(os.sep, "/")
        return f"{m.group(1)}{rel}{m.group(3) or ''}{m.group(4)}"

    return _LINK.sub(repl, markdown)


def validation_table() -> str:
    """The output of docs/gen_validation.py (the table and the tolerance line)."""
    spec = importlib.util.spec_from_file_location("_gen_validation", DOCS / "gen_validation.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = mod.main()
    if rc:
        raise RuntimeError(f"docs/gen_validation.py exited with {rc}")
    return buf.getvalue().strip()


def committed_validation_table(markdown: str) -> tuple[int, int]:
    """Start and end offsets of the generated block in validation.md's text."""
    start = markdown.index(VALIDATION_START)
    end_line = markdown.index(VALIDATION_END, start)
    end = markdown.index("\n", end_line)
    return start, end


def on_page_markdown(markdown, page, config, files):
    src = page.file.src_uri
    if src == "validation.md":
        start, end = committed_validation_table(markdown)
        markdown = markdown[:start] + validation_table() + markdown[end:]
    if not src.startswith(SOURCE_DIR + "/"):
        markdown = _rewrite_links(markdown, src)
    return markdown

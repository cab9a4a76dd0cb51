"""The command line: ``glmlogit demo`` and ``glmlogit fit DATA.csv "y ~ x1 + C(g)"``.

Errors the user can fix (a missing file or column, a bad formula or family) print one line,
``glmlogit: error: ...``, on stderr and exit with status 2, as argparse does for bad arguments.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import sys
import warnings
from collections.abc import Sequence

import pandas as pd

from . import __version__
from .errors import GlmlogitError

FORMATS = ("text", "markdown", "latex", "html", "json")
DEMO_FORMULA = "low ~ age + lwt + C(race) + smoke + ptl + ht + ui"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="glmlogit",
        description="Fit generalized linear models (logistic regression by default) and print "
        "an R-style summary.",
    )
    p.add_argument("--version", action="version", version=f"glmlogit {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="fit a logistic regression to the shipped low-birth-weight data and print it",
        description=f"Fit {DEMO_FORMULA!r} (binomial, logit) to the low-birth-weight data of "
        "Hosmer & Lemeshow (1989), shipped with glmlogit, and print the summary.",
    )
    _model_options(demo)
    _output_options(demo)

    fit = sub.add_parser(
        "fit",
        help="fit a model to a CSV file and print its summary",
        description="Fit a GLM to a CSV file (with a header row) and print its summary.",
    )
    fit.add_argument("data", metavar="DATA.csv", help="CSV file with a header row; '-' reads stdin")
    fit.add_argument("formula", help='model formula, e.g. "y ~ x1 + C(g)"')
    fit.add_argument(
        "--family",
        default="binomial",
        help="binomial (default), poisson, gaussian, gamma or inverse_gaussian",
    )
    fit.add_argument("--link", default=None, help="link function (default: the family's own)")
    fit.add_argument("--weights", metavar="COL", default=None, help="column of prior weights")
    fit.add_argument("--offset", metavar="COL", default=None, help="column of offsets")
    _model_options(fit)
    _output_options(fit)
    return p


COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster")


def _model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--cov-type",
        choices=COV_TYPES,
        default=None,
        help="covariance for standard errors, tests and intervals: nonrobust (default), "
        "HC0-HC3 (sandwich) or cluster (with --groups)",
    )
    p.add_argument(
        "--groups",
        metavar="COL",
        default=None,
        help="column of cluster labels for cluster-robust standard errors (implies "
        "--cov-type cluster)",
    )
    p.add_argument(
        "--odds-ratios",
        action="store_true",
        help="show exponentiated coefficients (odds ratios for logit, rate/risk ratios for log "
        "links) with exponentiated intervals",
    )


def _cov_kwargs(args: argparse.Namespace) -> dict:
    cov_type = args.cov_type
    if args.groups is not None:
        if cov_type not in (None, "cluster"):
            raise _UserError(f"--groups is for --cov-type cluster, not {cov_type}")
        cov_type = "cluster"
    if cov_type is None:
        return {}
    kw: dict = {"cov_type": cov_type}
    if args.groups is not None:
        kw["groups"] = args.groups
    return kw


def _output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--format", choices=FORMATS, default="text", help="output format (default: text)"
    )
    p.add_argument(
        "--alpha",
        type=float,
        default=0.05,
        help="confidence intervals at level 1 - alpha (default: 0.05)",
    )


def _read_csv(path: str) -> pd.DataFrame:
    if path != "-" and not os.path.exists(path):
        raise _UserError(f"no such file: {path}")
    try:
        return pd.read_csv(sys.stdin if path == "-" else path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise _UserError(f"cannot read {path} as CSV: {err}") from err
    except OSError as err:
        raise _UserError(f"cannot read {path}: {err.strerror or err}") from err


class _UserError(Exception):
    """An error about the command's input that is not raised by the library itself."""


def _render(summary, fmt: str, data_note: dict[str, str] | None) -> str:
    note = f"Data: {data_note['name']}, {data_note['source']}" if data_note else None
    if fmt == "json":
        d = summary.to_dict()
        if data_note:
            d["data"] = dict(data_note)
        return json.dumps(d, indent=2, allow_nan=False) + "\n"
    if fmt == "text":
        body = str(summary)
        return f"{note}\n\n{body}" if note else body
    if fmt == "markdown":
        from .summary import _md_escape

        body = summary.to_markdown()
        return f"*{_md_escape(note)}*\n\n{body}" if note else body
    if fmt == "latex":
        body = summary.to_latex()
        return f"% {' '.join(note.split())}\n{body}" if note else body
    body = summary.to_html()
    return f"<p>{html.escape(note)}</p>\n{body}" if note else body


def _run(args: argparse.Namespace) -> str:
    from .model import glm
    from .summary import Summary

    cov = _cov_kwargs(args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if args.command == "demo":
            from .datasets import BIRTHWT_SOURCE, load_birthwt

            res = glm(DEMO_FORMULA, load_birthwt(), family="binomial", link="logit", **cov)
            data_note: dict[str, str] | None = {
                "name": "low birth weight (birthwt)",
                "source": BIRTHWT_SOURCE,
            }
        else:
            df = _read_csv(args.data)
            res = glm(
                args.formula,
                df,
                family=args.family,
                link=args.link,
                weights=args.weights,
                offset=args.offset,
                **cov,
            )
            data_note = None
    for w in caught:
        print(f"glmlogit: warning: {_one_line(w.message)}", file=sys.stderr)
    summary = Summary(res, alpha=args.alpha, odds_ratios=args.odds_ratios)
    return _render(summary, args.format, data_note)


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _one_line(msg) -> str:
    """One line, without the terminal colour codes that formulaic puts in its messages."""
    return " ".join(_ANSI.sub("", str(msg)).split())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 error)."""
    args = _parser().parse_args(argv)
    try:
        text = _run(args)
    except (GlmlogitError, _UserError) as err:
        print(f"glmlogit: error: {_one_line(err)}", file=sys.stderr)
        return 2
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. `glmlogit demo | head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return 0

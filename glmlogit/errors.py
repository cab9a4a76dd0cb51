"""All errors and warnings raised by glmlogit, under one base class each."""

from __future__ import annotations


class GlmlogitError(Exception):
    """Base class of every error glmlogit raises on purpose."""


class DataError(GlmlogitError, ValueError):
    """The data cannot be used as given (missing column, bad values, empty data, ...)."""


class FormulaError(GlmlogitError, ValueError):
    """The formula cannot be turned into a design for this data."""


class FamilyError(GlmlogitError, ValueError):
    """Unknown family or link, or a link the family does not accept."""


class FitError(GlmlogitError, RuntimeError):
    """The fit could not find a valid set of coefficients."""


class SeparationError(FitError):
    """Raised with on_separation="raise": the MLE does not exist.  ``report`` has the details."""

    def __init__(self, message: str, report=None):
        super().__init__(message)
        self.report = report


class GlmlogitWarning(UserWarning):
    """Base class of every warning glmlogit emits."""


class ConvergenceWarning(GlmlogitWarning):
    """The iterations stopped before the convergence criterion was met."""


class PerfectSeparationWarning(GlmlogitWarning):
    """The binomial data are separated: the maximum-likelihood estimate does not exist."""


class DataWarning(GlmlogitWarning):
    """The data are usable but unusual (e.g. non-integer binomial successes)."""

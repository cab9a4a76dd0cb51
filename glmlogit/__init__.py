"""glmlogit: logistic regression and GLMs with R-exact inference."""

from . import families, links, plots
from .compare import Comparison, compare
from .effects import MarginalEffects, margeff, prediction_grid
from .errors import (
    ConvergenceWarning,
    DataError,
    FamilyError,
    FitError,
    FormulaError,
    GlmlogitError,
    GlmlogitWarning,
    PerfectSeparationWarning,
    SeparationError,
)
from .model import GLM, anova, glm, logit, poisson, probit
from .multinomial import Multinomial, MultinomialResults, multinomial
from .path import GLMCV, GLMPath, glm_cv, glm_path
from .results import GLMResults

__version__ = "0.1.0"

__all__ = [
    "GLMCV",
    "GLMPath",
    "glm_cv",
    "glm_path",
    "Comparison",
    "MarginalEffects",
    "compare",
    "margeff",
    "plots",
    "prediction_grid",
    "GLM",
    "ConvergenceWarning",
    "DataError",
    "FamilyError",
    "FitError",
    "FormulaError",
    "GLMResults",
    "Multinomial",
    "MultinomialResults",
    "GlmlogitError",
    "GlmlogitWarning",
    "PerfectSeparationWarning",
    "SeparationError",
    "anova",
    "families",
    "glm",
    "links",
    "logit",
    "multinomial",
    "poisson",
    "probit",
]

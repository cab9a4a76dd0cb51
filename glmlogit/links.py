"""Link functions g(mu) = eta, pointwise, following R's ``make.link``.

Each link knows ``link`` (mu -> eta), ``inverse`` (eta -> mu), ``mu_eta`` (dmu/deta) and whether
an eta is inside its domain.  The clamps (``_EPS``) are R's: they keep mu strictly inside the
family's range so working weights stay finite.  The logit link is computed without clamps, in log
space where it matters, because it is the canonical link of the binomial family and the engine
special-cases it.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from .errors import FamilyError

_EPS = float(np.finfo(float).eps)  # R's .Machine$double.eps


class Link:
    """A link function.  Subclasses implement the four pointwise maps."""

    name: str = ""

    def link(self, mu: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def inverse(self, eta: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def mu_eta(self, eta: np.ndarray) -> np.ndarray:
        """Derivative of the inverse link, dmu/deta."""
        raise NotImplementedError

    def valid_eta(self, eta: np.ndarray) -> bool:
        return bool(np.all(np.isfinite(eta)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Logit(Link):
    name = "logit"

    def link(self, mu):
        return special.logit(mu)

    def inverse(self, eta):
        return special.expit(eta)

    def mu_eta(self, eta):
        # p(1-p) as expit(eta)*expit(-eta): no cancellation in either tail.
        return special.expit(eta) * special.expit(-eta)


class Probit(Link):
    name = "probit"
    _thresh = -stats.norm.ppf(_EPS)

    def link(self, mu):
        return special.ndtri(mu)

    def inverse(self, eta):
        return special.ndtr(np.clip(eta, -self._thresh, self._thresh))

    def mu_eta(self, eta):
        return np.maximum(np.exp(-0.5 * eta * eta) / np.sqrt(2.0 * np.pi), _EPS)


class Cauchit(Link):
    name = "cauchit"
    _thresh = -stats.cauchy.ppf(_EPS)

    def link(self, mu):
        return np.tan(np.pi * (mu - 0.5))

    def inverse(self, eta):
        eta = np.clip(eta, -self._thresh, self._thresh)
        return 0.5 + np.arctan(eta) / np.pi

    def mu_eta(self, eta):
        return np.maximum(1.0 / (np.pi * (1.0 + eta * eta)), _EPS)


class CLogLog(Link):
    name = "cloglog"

    def link(self, mu):
        return np.log(-np.log1p(-mu))

    def inverse(self, eta):
        return np.clip(-np.expm1(-np.exp(eta)), _EPS, 1.0 - _EPS)

    def mu_eta(self, eta):
        eta = np.minimum(eta, 700.0)
        return np.maximum(np.exp(eta - np.exp(eta)), _EPS)


class Identity(Link):
    name = "identity"

    def link(self, mu):
        return np.asarray(mu, dtype=float)

    def inverse(self, eta):
        return np.asarray(eta, dtype=float)

    def mu_eta(self, eta):
        return np.ones_like(eta, dtype=float)


class Log(Link):
    name = "log"

    def link(self, mu):
        return np.log(mu)

    def inverse(self, eta):
        return np.maximum(np.exp(eta), _EPS)

    def mu_eta(self, eta):
        return np.maximum(np.exp(eta), _EPS)


class Inverse(Link):
    name = "inverse"

    def link(self, mu):
        return 1.0 / mu

    def inverse(self, eta):
        return 1.0 / eta

    def mu_eta(self, eta):
        return -1.0 / (eta * eta)

    def valid_eta(self, eta):
        return bool(np.all(np.isfinite(eta)) and np.all(eta != 0))


class Sqrt(Link):
    name = "sqrt"

    def link(self, mu):
        return np.sqrt(mu)

    def inverse(self, eta):
        return eta * eta

    def mu_eta(self, eta):
        return 2.0 * eta

    def valid_eta(self, eta):
        return bool(np.all(np.isfinite(eta)) and np.all(eta > 0))


class InverseSquared(Link):
    """R's ``1/mu^2``, the canonical link of the inverse Gaussian family."""

    name = "inverse_squared"

    def link(self, mu):
        return 1.0 / (mu * mu)

    def inverse(self, eta):
        return 1.0 / np.sqrt(eta)

    def mu_eta(self, eta):
        return -1.0 / (2.0 * eta**1.5)

    def valid_eta(self, eta):
        return bool(np.all(np.isfinite(eta)) and np.all(eta > 0))


LINKS: dict[str, type[Link]] = {
    cls.name: cls
    for cls in (Logit, Probit, Cauchit, CLogLog, Identity, Log, Inverse, Sqrt, InverseSquared)
}
_ALIASES = {"1/mu^2": "inverse_squared", "inverse_power": "inverse", "cloglog": "cloglog"}


def get_link(link: str | Link) -> Link:
    """Return a Link instance from a name (R's spelling accepted) or an instance."""
    if isinstance(link, Link):
        return link
    if not isinstance(link, str):
        raise FamilyError(f"link must be a name or a Link, got {type(link).__name__}")
    key = _ALIASES.get(link.lower(), link.lower())
    if key not in LINKS:
        raise FamilyError(f"unknown link {link!r}; choose one of {sorted(LINKS)}")
    return LINKS[key]()

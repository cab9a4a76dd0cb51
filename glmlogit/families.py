"""Exponential-family distributions for GLMs, pointwise, following R's ``family`` objects.

A family owns the variance function, the unit deviance (R's ``dev.resids``), the log-likelihood
on R's convention (R's ``family$aic``), the starting means (R's ``initialize``) and the check of
what the response may be.  It never sees the design matrix.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .errors import DataError, DataWarning, FamilyError
from .links import Link, get_link


def _ylogy(y: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """y * log(y / mu) with 0 log 0 = 0 (R's C helper ``y_log_y``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y > 0, y * np.log(y / mu), 0.0)


class Family:
    """Base class: subclasses set ``name``, ``links``, ``default_link`` and the pointwise maps."""

    name: str = ""
    r_name: str = ""
    links: tuple[str, ...] = ()
    default_link: str = ""
    canonical_link: str = ""
    fixed_scale: bool = False  # binomial/poisson: dispersion is 1
    # eta equals the natural parameter, so dmu/deta == V(mu).  Not so for R's Gamma "inverse"
    # (eta = -theta) or inverse Gaussian "1/mu^2" (eta = -2 theta) canonical links.
    unit_canonical: bool = False

    def __init__(self, link: str | Link | None = None):
        lk = get_link(link if link is not None else self.default_link)
        if lk.name not in self.links:
            raise FamilyError(
                f"link {lk.name!r} is not available for the {self.name} family; "
                f"choose one of {list(self.links)}"
            )
        self.link = lk

    @property
    def canonical(self) -> bool:
        return self.link.name == self.canonical_link

    def __repr__(self) -> str:
        return f"{type(self).__name__}(link={self.link.name!r})"

    # --- pointwise maps --------------------------------------------------------------------
    def variance(self, mu: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def valid_mu(self, mu: np.ndarray) -> bool:
        return bool(np.all(np.isfinite(mu)))

    def deviance_terms(
        self, y: np.ndarray, mu: np.ndarray, wt: np.ndarray, eta: np.ndarray | None = None
    ) -> np.ndarray:
        """Prior-weighted unit deviances (R's ``dev.resids``)."""
        raise NotImplementedError

    def starting_mu(self, y: np.ndarray, wt: np.ndarray) -> np.ndarray:
        return np.asarray(y, dtype=float).copy()

    def check_response(self, y: np.ndarray, wt: np.ndarray, name: str = "response") -> None:
        """Raise DataError if y is outside the family's support."""

    def loglik(self, y, mu, wt, deviance: float, eta=None) -> float:
        """Log-likelihood on R's convention (``logLik.glm``)."""
        raise NotImplementedError

    # --- what the engine asks for, one chunk of rows at a time -----------------------------
    @property
    def unit_weight_terms(self) -> bool:
        """Whether ``irls_terms`` accepts ``wt=None`` for unit prior weights (and then skips
        the weight products)."""
        return False

    def irls_terms(self, y, eta, wt):
        """Return (mu, working weights, score terms, summed deviance) at eta.

        Working weight ``wt * mu_eta^2 / V(mu)``; score term ``wt * mu_eta * (y - mu) / V(mu)``, so
        that the score is ``X' u`` and the Fisher information is ``X' W X``.
        """
        mu = self.link.inverse(eta)
        if self.canonical and self.unit_canonical:
            # mu_eta == V(mu) (eta is the natural parameter itself): no division.
            w = wt * self.variance(mu)
            u = wt * (y - mu)
        else:
            d = self.link.mu_eta(eta)
            v = self.variance(mu)
            w = wt * d * d / v
            u = wt * d * (y - mu) / v
        return mu, w, u, float(np.sum(self.deviance_terms(y, mu, wt, eta)))


class Binomial(Family):
    name = "binomial"
    r_name = "binomial"
    links = ("logit", "probit", "cauchit", "log", "cloglog", "identity")
    default_link = canonical_link = "logit"
    unit_canonical = True
    fixed_scale = True

    def variance(self, mu):
        return mu * (1.0 - mu)

    def valid_mu(self, mu):
        if self.link.name == "logit":
            # expit(eta) is inside (0, 1) for every finite eta; a mu rounded to 0 or 1 is harmless
            # because the engine computes the logit fit's weights and deviance from eta.
            return bool(np.all(np.isfinite(mu)))
        return bool(np.all(np.isfinite(mu)) and np.all((mu > 0) & (mu < 1)))

    def deviance_terms(self, y, mu, wt, eta=None):
        if eta is not None and self.link.name == "logit":
            # -log mu = softplus(-eta), -log(1 - mu) = softplus(eta): finite for every eta, and
            # y softplus(-eta) + (1 - y) softplus(eta) = softplus(eta) - y eta.
            nll = np.maximum(eta, 0.0) + np.log1p(np.exp(-np.abs(eta))) - y * eta
            frac = (y > 0) & (y < 1)
            if frac.any():  # proportions: add the saturated model's entropy term
                yf = y[frac]
                nll[frac] += special.xlogy(yf, yf) + special.xlogy(1.0 - yf, 1.0 - yf)
            return 2.0 * wt * nll
        return 2.0 * wt * (_ylogy(y, mu) + _ylogy(1.0 - y, 1.0 - mu))

    def starting_mu(self, y, wt):
        return (wt * y + 0.5) / (wt + 1.0)

    @property
    def unit_weight_terms(self) -> bool:
        return self.link.name == "logit"

    def irls_terms(self, y, eta, wt):
        if self.link.name != "logit":
            return super().irls_terms(y, eta, wt)
        # Logit, fused: one exp serves mu, the weights and the deviance.  With t = exp(-|eta|):
        # mu = 1/(1+t) or t/(1+t), mu(1-mu) = t/(1+t)^2 (no cancellation in either tail), and
        # -log-likelihood = softplus(eta) - y eta = max(eta, 0) + log1p(t) - y eta.
        # wt=None: unit prior weights (no products by them).
        t = np.abs(eta)
        np.negative(t, out=t)
        np.exp(t, out=t)
        inv = 1.0 + t
        np.reciprocal(inv, out=inv)
        mu = np.where(eta >= 0, inv, t * inv)
        w = t * inv
        w *= inv
        u = y - mu
        np.log1p(t, out=t)
        nll = np.maximum(eta, 0.0)
        nll += t
        nll -= y * eta
        frac = (y > 0) & (y < 1)
        if frac.any():  # proportions: the saturated model's entropy term
            yf = y[frac]
            nll[frac] += special.xlogy(yf, yf) + special.xlogy(1.0 - yf, 1.0 - yf)
        if wt is None:
            return mu, w, u, 2.0 * float(nll.sum())
        w *= wt
        u *= wt
        return mu, w, u, 2.0 * float(wt @ nll)

    def check_response(self, y, wt, name="response"):
        if len(y) and y.min() >= 0 and y.max() <= 1 and wt.min() == 1 and wt.max() == 1:
            # unit weights (the common case): integer successes means y is 0 or 1
            if not np.any((y > 1e-3) & (y < 1 - 1e-3)):
                return
        bad = (y < 0) | (y > 1)
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"binomial response {name!r} must lie in [0, 1] (0/1 outcomes, or proportions "
                f"with weights= trials); {int(bad.sum())} row(s) are outside, e.g. value "
                f"{y[i]!r} at position {i}"
            )
        m = wt * y
        if np.any(np.abs(m - np.round(m)) > 1e-3):
            import warnings

            warnings.warn(
                f"non-integer number of successes in binomial response {name!r}: for proportions "
                "pass the number of trials as weights=",
                DataWarning,
                stacklevel=4,
            )

    def loglik(self, y, mu, wt, deviance, eta=None):
        # sum over rows with positive weight of log C(m, k) + k log mu + (m - k) log(1 - mu), with
        # m = round(wt) trials and k = round(wt y) successes (R's binomial()$aic)
        pos = wt > 0
        if not pos.all():
            y, mu, wt = y[pos], mu[pos], wt[pos]
            eta = None if eta is None else eta[pos]
        m = np.round(wt)
        k = np.round(wt * y)
        big = m > 1  # log C(m, k) is 0 for m <= 1: gammaln only where it is not
        comb = 0.0
        if big.any():
            mb, kb = m[big], k[big]
            comb = float(
                np.sum(
                    special.gammaln(mb + 1) - special.gammaln(kb + 1) - special.gammaln(mb - kb + 1)
                )
            )
        if eta is not None and self.link.name == "logit":
            # log mu = min(eta, 0) - t and log(1 - mu) = -max(eta, 0) - t, t = log1p(exp(-|eta|))
            t = np.log1p(np.exp(-np.abs(eta)))
            return comb + float(k @ np.minimum(eta, 0.0) - (m - k) @ np.maximum(eta, 0.0) - m @ t)
        with np.errstate(divide="ignore"):
            lm, l1m = np.log(mu), np.log1p(-mu)
        with np.errstate(invalid="ignore"):
            terms = np.where(k > 0, k * lm, 0.0) + np.where(m - k > 0, (m - k) * l1m, 0.0)
        return comb + float(np.sum(terms))


class Poisson(Family):
    name = "poisson"
    r_name = "poisson"
    links = ("log", "identity", "sqrt")
    default_link = canonical_link = "log"
    unit_canonical = True
    fixed_scale = True

    def variance(self, mu):
        return mu

    def valid_mu(self, mu):
        return bool(np.all(np.isfinite(mu)) and np.all(mu > 0))

    def deviance_terms(self, y, mu, wt, eta=None):
        return 2.0 * wt * (_ylogy(y, mu) - (y - mu))

    def starting_mu(self, y, wt):
        return y + 0.1

    def check_response(self, y, wt, name="response"):
        bad = y < 0
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"poisson response {name!r} must be non-negative counts; {int(bad.sum())} row(s) "
                f"are negative, e.g. {y[i]!r} at position {i}"
            )

    def loglik(self, y, mu, wt, deviance, eta=None):
        return float(np.sum(wt * (special.xlogy(y, mu) - mu - special.gammaln(y + 1.0))))


class Gaussian(Family):
    name = "gaussian"
    r_name = "gaussian"
    links = ("identity", "log", "inverse")
    default_link = canonical_link = "identity"
    unit_canonical = True

    def variance(self, mu):
        return np.ones_like(mu)

    def deviance_terms(self, y, mu, wt, eta=None):
        return wt * (y - mu) ** 2

    def check_response(self, y, wt, name="response"):
        if self.link.name in ("log", "inverse") and np.any(y <= 0):
            raise DataError(
                f"gaussian response {name!r} with a {self.link.name} link needs positive values "
                "to start from (as R); pass start= to fit anyway"
            )

    def loglik(self, y, mu, wt, deviance, eta=None):
        pos = wt > 0
        n = int(pos.sum())
        # R: -(n (log(2 pi dev / n) + 1) - sum(log wt)) / 2
        return float(
            -0.5 * (n * (np.log(2.0 * np.pi * deviance / n) + 1.0) - np.sum(np.log(wt[pos])))
        )


class Gamma(Family):
    name = "gamma"
    r_name = "Gamma"
    links = ("inverse", "identity", "log")
    default_link = canonical_link = "inverse"

    def variance(self, mu):
        return mu * mu

    def valid_mu(self, mu):
        return bool(np.all(np.isfinite(mu)) and np.all(mu > 0))

    def deviance_terms(self, y, mu, wt, eta=None):
        return -2.0 * wt * (np.log(y / mu) - (y - mu) / mu)

    def check_response(self, y, wt, name="response"):
        bad = y <= 0
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"gamma response {name!r} must be positive; {int(bad.sum())} row(s) are not, "
                f"e.g. {y[i]!r} at position {i}"
            )

    def loglik(self, y, mu, wt, deviance, eta=None):
        disp = deviance / np.sum(wt)
        shape = 1.0 / disp
        scale = mu * disp
        ld = (shape - 1.0) * np.log(y) - y / scale - special.gammaln(shape) - shape * np.log(scale)
        return float(np.sum(wt * ld))


class InverseGaussian(Family):
    name = "inverse_gaussian"
    r_name = "inverse.gaussian"
    links = ("inverse_squared", "inverse", "identity", "log")
    default_link = canonical_link = "inverse_squared"

    def variance(self, mu):
        return mu**3

    def valid_mu(self, mu):
        return bool(np.all(np.isfinite(mu)) and np.all(mu > 0))

    def deviance_terms(self, y, mu, wt, eta=None):
        return wt * ((y - mu) ** 2) / (y * mu * mu)

    def check_response(self, y, wt, name="response"):
        bad = y <= 0
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"inverse Gaussian response {name!r} must be positive; {int(bad.sum())} row(s) "
                f"are not, e.g. {y[i]!r} at position {i}"
            )

    def loglik(self, y, mu, wt, deviance, eta=None):
        sw = np.sum(wt)
        return float(
            -0.5 * (sw * (1.0 + np.log(2.0 * np.pi * deviance / sw)) + 3.0 * np.sum(wt * np.log(y)))
        )


FAMILIES: dict[str, type[Family]] = {
    "binomial": Binomial,
    "poisson": Poisson,
    "gaussian": Gaussian,
    "gamma": Gamma,
    "inverse_gaussian": InverseGaussian,
}
_ALIASES = {
    "inverse.gaussian": "inverse_gaussian",
    "inversegaussian": "inverse_gaussian",
    "normal": "gaussian",
}


def get_family(family: str | Family, link: str | Link | None = None) -> Family:
    """Return a Family instance from a name (R's spelling accepted) or pass one through."""
    if isinstance(family, Family):
        if link is not None and get_link(link).name != family.link.name:
            return type(family)(link)
        return family
    if isinstance(family, type) and issubclass(family, Family):
        return family(link)
    if not isinstance(family, str):
        raise FamilyError(f"family must be a name or a Family, got {type(family).__name__}")
    key = _ALIASES.get(family.lower(), family.lower())
    if key not in FAMILIES:
        raise FamilyError(f"unknown family {family!r}; choose one of {sorted(FAMILIES)}")
    return FAMILIES[key](link)

"""The family/link pairs the live comparisons run over (shared by test_truth and
test_vs_statsmodels): every pair both glmlogit and statsmodels support; the simulated true mean of
each is inside the link's domain."""

COMBOS = [
    ("binomial", "logit"),
    ("binomial", "probit"),
    ("binomial", "cloglog"),
    ("binomial", "cauchit"),
    ("poisson", "log"),
    ("poisson", "identity"),
    ("poisson", "sqrt"),
    ("gaussian", "identity"),
    ("gaussian", "log"),
    ("gaussian", "inverse"),
    ("gamma", "inverse"),
    ("gamma", "log"),
    ("gamma", "identity"),
    ("inverse_gaussian", "inverse_squared"),
    ("inverse_gaussian", "log"),
]

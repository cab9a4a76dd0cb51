## make_robust.R -- R references for glmlogit's robust covariances and diagnostics.
##
## Run by hand (CI never runs R; tests/test_robust.py and tests/test_diagnostics.py read the
## outputs):
##
##     cd tests/reference && Rscript make_robust.R
##
## (helpers shared with the other scripts -- JSON writing, read_data, fit_glm,
## fixed_point -- are in common.R, sourced from this directory).
##
## Reads the data sets written by make_reference.R (data/*.csv) and writes
## robust/<case>.json, one file per case, with
##   * sandwich::vcovHC(fit, type = "HC0" | "HC1" | "HC2" | "HC3");
##   * sandwich::vcovCL(fit, cluster = cl) for a deterministic cluster vector cl
##     (stored in the file): "r" = vcovCL's default for a glm (type "HC0",
##     cadjust = TRUE: G/(G-1)), "stata" = type "HC1" (G/(G-1) (n-1)/(n-k)),
##     "none" = type "HC0", cadjust = FALSE;
##   * hatvalues, cooks.distance, rstandard, rstandard(type = "pearson"),
##     rstudent, dfbeta, dfbetas, lm.influence()$sigma;
##   * exp(cbind(coef, confint.default(fit))) (odds / rate ratios) for logit and
##     log links, and the same Wald limits on the HC0 covariance;
##   * for binomial fits: the Hosmer-Lemeshow statistic with the grouping of
##     ResourceSelection::hoslem.test (re-implemented below: that package is
##     not installed), and for 0/1 responses pROC::auc and the 0.5 table.
##
## Exact MLE: every fit is refitted with start = its coefficients until they
## reach a fixed point (fixed_point() in common.R, as make_reference.R).  This
## matters here more than for the coefficients: glm.fit's QR, hence hatvalues
## and summary()$cov.unscaled (sandwich's bread), is taken at the weights of the
## *previous* iterate.
##
## Rows with prior weight 0 (case birthwt_zero_weights): R's influence
## measures omit them (the vectors are shorter); they are stored as null.
## sandwich mixes two n's on such a fit (bread: rank + df.residual, i.e. the
## non-zero weights; meat and sandwich(): all rows), which scales HC0/HC1/vcovCL
## by (n_nonzero / n_all)^2, and recycles the shorter hatvalues for HC2/HC3.
## glmlogit drops zero-weight rows instead, so the vcov references of that case
## come from the fit on the rows with non-zero weight (the same coefficients);
## R's own full-data HC0 is stored too (vcovHC_HC0_all_rows) to document the
## factor.
##
## Numbers are written with the shortest representation that round-trips
## (15-17 significant digits); jsonlite alone stops at 15.
##
## Tested with R 4.2.2, sandwich 3.0.2, pROC 1.18, jsonlite 1.8.

suppressPackageStartupMessages({
  library(sandwich)
  library(jsonlite)
  library(pROC)
})
options(digits = 17, warn = 1)
source("common.R")

out_dir <- "robust"
dir.create(out_dir, showWarnings = FALSE)

## --- cases --------------------------------------------------------------------------------------
## cluster: function(data) -> integer vector; weights_fn: optional function(data) -> prior weights
## (stored in the file as weights_values; the Python side passes them as an array).
case <- function(name, description, dataset, formula_r, formula_py, family, cluster,
                 weights = NULL, offset = NULL, weights_fn = NULL) case_args()
row_mod <- function(m) function(d) as.integer(seq_len(nrow(d)) %% m)

cases <- list(
  case("birthwt_logit", "Low birth weight on age, lwt, smoke, ht; binomial logit; cluster = row %% 12.",
       "birthwt.csv", "low ~ age + lwt + smoke + ht", "low ~ age + lwt + smoke + ht",
       binomial("logit"), row_mod(12)),
  case("birthwt_weights", "low ~ age + smoke with integer prior weights w = row %% 3 + 1 (many tied fitted values); cluster = row %% 7.",
       "birthwt.csv", "low ~ age + smoke", "low ~ age + smoke", binomial("logit"), row_mod(7),
       weights = "w", weights_fn = function(d) as.numeric(d$w)),
  case("birthwt_zero_weights", "As birthwt_logit with prior weights w0 = w, set to 0 on every 10th row; cluster = row %% 12.",
       "birthwt.csv", "low ~ age + lwt + smoke + ht", "low ~ age + lwt + smoke + ht",
       binomial("logit"), row_mod(12), weights = "w0",
       weights_fn = function(d) ifelse(seq_len(nrow(d)) %% 10 == 0, 0, as.numeric(d$w))),
  case("birthwt_aliased", "low ~ age + lwt + smoke + nonsmoke (nonsmoke = 1 - smoke is aliased); cluster = row %% 12.",
       "birthwt.csv", "low ~ age + lwt + smoke + nonsmoke", "low ~ age + lwt + smoke + nonsmoke",
       binomial("logit"), row_mod(12)),
  case("insurance_poisson_offset", "Claims on District, Group, Age with offset log(Holders); poisson log; cluster = row %% 8.",
       "insurance.csv", "Claims ~ factor(District) + Group + Age",
       "Claims ~ C(District) + C(Group) + C(Age)", poisson("log"), row_mod(8),
       offset = "log_holders"),
  case("menarche_probit", "Proportion reaching menarche (weights Total) on Age; binomial probit; cluster = row %% 5.",
       "menarche.csv", "prop ~ Age", "prop ~ Age", binomial("probit"), row_mod(5),
       weights = "Total", weights_fn = function(d) as.numeric(d$Total)),
  case("mtcars_gaussian", "mpg on wt, hp, factor(cyl); gaussian identity (estimated dispersion); cluster = gear.",
       "mtcars.csv", "mpg ~ wt + hp + factor(cyl)", "mpg ~ wt + hp + C(cyl)",
       gaussian("identity"), function(d) as.integer(d$gear)),
  case("clotting_gamma_log", "Clotting time lot1 on log(u); Gamma log link (non-canonical, estimated dispersion); cluster = row %% 3.",
       "clotting.csv", "lot1 ~ log(u)", "lot1 ~ np.log(u)", Gamma("log"), row_mod(3))
)

## glm fit refitted to its fixed point (common.R)
fit_fixed_point <- function(cs, dat) {
  fixed_point(fit_glm(cs, dat),
              function(start) fit_glm(cs, dat, start = start, control = REFIT_CONTROL))$fit
}

## --- helpers ------------------------------------------------------------------------------------
embed_mat <- function(m, cn) {          # k x k (non-aliased) -> p x p with NA
  out <- matrix(NA_real_, length(cn), length(cn), dimnames = list(cn, cn))
  out[rownames(m), colnames(m)] <- m
  unname(out)
}
pad_rows <- function(v, n) {            # named by data row -> length n with NA
  out <- rep(NA_real_, n)
  out[as.integer(names(v))] <- unname(v)
  out
}
pad_mat <- function(m, n, cn) {
  out <- matrix(NA_real_, n, length(cn), dimnames = list(NULL, cn))
  out[as.integer(rownames(m)), colnames(m)] <- m
  unname(out)
}

## Hosmer-Lemeshow with hoslem.test's grouping (ResourceSelection 0.3-5):
##   qq <- unique(quantile(yhat, probs = seq(0, 1, 1/g)))
##   cutyhat <- cut(yhat, breaks = qq, include.lowest = TRUE)
## observed/expected counts weighted by the prior weights; df = number of groups - 2.
hosmer_lemeshow <- function(y, mu, w, g = 10) {
  keep <- w > 0
  y <- y[keep]; mu <- mu[keep]; w <- w[keep]
  qq <- unique(quantile(mu, probs = seq(0, 1, 1/g)))
  grp <- droplevels(cut(mu, breaks = qq, include.lowest = TRUE))
  O <- tapply(w * y, grp, sum); E <- tapply(w * mu, grp, sum); n <- tapply(w, grp, sum)
  stat <- sum((O - E)^2 / E + (O - E)^2 / (n - E))
  df <- nlevels(grp) - 2L
  list(statistic = stat, df = df, pvalue = pchisq(stat, df, lower.tail = FALSE),
       rows = I(as.integer(table(grp))), observed = I(unname(as.vector(O))),
       expected = I(unname(as.vector(E))))
}

vcov_set <- function(fit, cl) {
  list(
    HC0 = vcovHC(fit, type = "HC0"), HC1 = vcovHC(fit, type = "HC1"),
    HC2 = vcovHC(fit, type = "HC2"), HC3 = vcovHC(fit, type = "HC3"),
    CL_r = vcovCL(fit, cluster = cl),
    CL_r_explicit = vcovCL(fit, cluster = cl, type = "HC0", cadjust = TRUE),
    CL_stata = vcovCL(fit, cluster = cl, type = "HC1"),
    CL_none = vcovCL(fit, cluster = cl, type = "HC0", cadjust = FALSE))
}

## --- run ----------------------------------------------------------------------------------------
for (cs in cases) {
  dat <- read_data(cs$dataset)
  n <- nrow(dat)
  if (!is.null(cs$weights_fn)) dat[[cs$weights]] <- cs$weights_fn(dat)
  cl <- cs$cluster(dat)
  fit <- fit_fixed_point(cs, dat)
  cn <- names(coef(fit))
  pw <- fit$prior.weights
  zero <- any(pw == 0)

  ## robust covariances (see the header for zero weights)
  vfit <- if (zero) fit_fixed_point(cs, dat[pw > 0, , drop = FALSE]) else fit
  vcl <- if (zero) cl[pw > 0] else cl
  if (zero) stopifnot(max(abs(coef(vfit) - coef(fit)) / abs(coef(fit))) < 1e-12)
  vs <- vcov_set(vfit, vcl)
  stopifnot(identical(vs$CL_r, vs$CL_r_explicit))
  vs$CL_r_explicit <- NULL

  ## influence
  infl <- influence(fit)
  or_ok <- fit$family$link %in% c("logit", "log")
  z <- qnorm(0.975)
  b <- coef(fit)

  out <- list(
    name = cs$name, description = cs$description, dataset = cs$dataset,
    formula_r = cs$formula_r, formula_py = cs$formula_py,
    family = c(binomial = "binomial", poisson = "poisson", gaussian = "gaussian",
               Gamma = "gamma")[[fit$family$family]],
    link = fit$family$link, weights = cs$weights, offset = cs$offset,
    weights_values = if (is.null(cs$weights_fn)) NULL else I(as.numeric(pw)),
    cluster = I(as.integer(cl)),
    n_clusters = length(unique(vcl)),
    coef_names_r = I(cn), params = I(unname(b)), aliased = I(unname(is.na(b))),
    dispersion = summary(fit)$dispersion,
    vcovHC_HC0 = embed_mat(vs$HC0, cn), vcovHC_HC1 = embed_mat(vs$HC1, cn),
    vcovHC_HC2 = embed_mat(vs$HC2, cn), vcovHC_HC3 = embed_mat(vs$HC3, cn),
    vcovCL_r = embed_mat(vs$CL_r, cn), vcovCL_stata = embed_mat(vs$CL_stata, cn),
    vcovCL_none = embed_mat(vs$CL_none, cn),
    hat = I(pad_rows(hatvalues(fit), n)),
    cooks_d = I(pad_rows(cooks.distance(fit), n)),
    rstandard = I(pad_rows(rstandard(fit), n)),
    rstandard_pearson = I(pad_rows(rstandard(fit, type = "pearson"), n)),
    rstudent = I(pad_rows(rstudent(fit), n)),
    sigma = I(pad_rows(infl$sigma, n)),
    dfbeta = pad_mat(dfbeta(fit), n, cn),
    dfbetas = pad_mat(dfbetas(fit), n, cn)
  )
  if (zero) {
    out$vcov_from_nonzero_rows <- TRUE
    out$vcovHC_HC0_all_rows <- embed_mat(vcovHC(fit, type = "HC0"), cn)
  }
  if (or_ok) {
    ci <- exp(cbind(b, confint.default(fit)))
    out$ratio_ci <- unname(ci)
    se0 <- sqrt(diag(embed_mat(vs$HC0, cn)))
    out$ratio_ci_HC0 <- unname(exp(cbind(b, b - z * se0, b + z * se0)))
  }
  if (fit$family$family == "binomial") {
    out$hosmer_lemeshow <- hosmer_lemeshow(fit$y, fitted(fit), pw, g = 10)
    out$hosmer_lemeshow_g8 <- hosmer_lemeshow(fit$y, fitted(fit), pw, g = 8)
    if (all(pw == 1)) {
      out$auc <- as.numeric(pROC::auc(fit$y, fitted(fit), quiet = TRUE, direction = "<"))
      tb <- table(factor(fit$y, levels = 0:1), factor(fitted(fit) > 0.5, levels = c(FALSE, TRUE)))
      out$classification_table <- matrix(as.numeric(tb), 2, 2)
    }
  }
  for (k in names(out)) if (is.null(out[[k]])) out[k] <- list(NULL)

  write_case(out, out_dir,  # these fields must read back exactly
             check = c("vcovHC_HC3", "vcovCL_stata", "hat", "rstudent", "dfbetas"))
  cat(sprintf("%-26s n=%3d k=%d G=%d%s\n", cs$name, n, fit$rank, out$n_clusters,
              if (zero) "  (zero weights: vcov from the non-zero rows)" else ""))
}

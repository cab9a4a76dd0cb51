## make_multinomial.R -- R reference results for glmlogit's multinomial logit.
##
## Run by hand (CI never runs R; the Python tests only read the outputs):
##
##     cd tests/reference && Rscript make_multinomial.R
##
## (the CSV / JSON writers are in common.R, sourced from this directory).
##
## Writes
##   data/iris.csv, data/housing.csv, data/multinom_sim4.csv   the data as fitted
##       (column names without dots; numbers in the shortest form that reads back
##       as the same double; factors as their labels);
##   multinomial/<case>.json   nnet::multinom results, one file per case.
##
## Exact MLE.  nnet::multinom maximises the likelihood with BFGS (optim's vmmin),
## which stops on a relative change of the objective, so its coefficients are
## correct to only ~1e-5.  Each case is therefore
##   1. fitted with multinom(reltol = 1e-16, abstol = 0, maxit = 10000);
##   2. refitted from its own solution (Wts = fit$wts) until the coefficients
##      stop changing (max relative change < 1e-10, or no further change, at
##      most 50 rounds) -- "nnet" results: coefficients, summary()$standard.errors
##      (nnet's analytic Hessian, multinomHess), deviance, AIC;
##   3. polished by Newton's method on the exact log-likelihood, with the exact
##      Hessian H_jk = X' diag(w p_j (delta_jk - p_k)) X, written out below, until
##      the Newton step is below 1e-14 -- "exact" results: coefficients, standard
##      errors sqrt(diag(H^-1)) at that point, deviance, fitted probabilities.
## The JSON records both and how far apart they are (max_abs_diff_nnet_exact).
## The gradient at the exact solution is checked (max |score| < 1e-8 relative).
##
## The case iris_separated (Species ~ Sepal.Length + Sepal.Width) has no MLE:
## setosa is linearly separable from versicolor in the sepal plane, so the
## likelihood increases without bound; nnet stops at some large coefficients.
## Only nnet's deviance and coefficients are saved there, flagged separated.
##
## Tested with R 4.2.2 (nnet 7.3-18, MASS 7.3, jsonlite 1.8).

suppressPackageStartupMessages({
  library(nnet)
  library(MASS)
  library(jsonlite)
})
options(digits = 17, warn = 1)
source("common.R")

data_dir <- "data"
out_dir <- "multinomial"
dir.create(data_dir, showWarnings = FALSE)
dir.create(out_dir, showWarnings = FALSE)

## ---------------------------------------------------------------------------
## Fitting
## ---------------------------------------------------------------------------
fit_nnet <- function(formula, data, w) {
  data$.w <- w
  fit <- multinom(formula, data = data, weights = .w, maxit = 10000,
                  reltol = 1e-16, abstol = 0, trace = FALSE)
  rounds <- 0
  repeat {
    rounds <- rounds + 1
    old <- coef(fit)
    fit <- multinom(formula, data = data, weights = .w, Wts = fit$wts,
                    maxit = 10000, reltol = 1e-16, abstol = 0, trace = FALSE)
    ch <- max(abs(coef(fit) - old) / pmax(abs(old), 1e-300))
    if (ch < 1e-10 || ch == 0 || rounds >= 50) break
  }
  fit$polish_rounds <- rounds
  fit
}

## Exact log-likelihood pieces at B (p x (K-1)); level-major stacking.
mn_pieces <- function(X, Y, w, B) {
  eta <- cbind(0, X %*% B)
  m <- apply(eta, 1, max)
  E <- exp(eta - m)
  lse <- m + log(rowSums(E))
  logP <- eta - lse
  P <- exp(logP)
  K <- ncol(Y)
  p <- ncol(X)
  g <- as.vector(crossprod(X, w * (Y - P)[, -1, drop = FALSE]))
  H <- matrix(0, p * (K - 1), p * (K - 1))
  for (j in 1:(K - 1)) for (k in 1:(K - 1)) {
    d <- w * P[, j + 1] * ((j == k) - P[, k + 1])
    H[(j - 1) * p + 1:p, (k - 1) * p + 1:p] <- crossprod(X, d * X)
  }
  list(ll = sum(w * rowSums(Y * logP)), g = g, H = H, P = P)
}

newton_polish <- function(X, Y, w, B) {
  for (it in 1:100) {
    pc <- mn_pieces(X, Y, w, B)
    step <- solve(pc$H, pc$g)
    B <- B + matrix(step, ncol(X))
    if (max(abs(step) / (1 + abs(as.vector(B)))) < 1e-14) break
  }
  pc <- mn_pieces(X, Y, w, B)
  scale <- max(abs(crossprod(abs(X), w * abs(cbind(1, pc$P)))))
  if (max(abs(pc$g)) > 1e-8 * scale) stop("Newton polish: score not zero")
  list(B = B, cov = solve(pc$H), ll = pc$ll, P = pc$P, iter = it)
}

run_case <- function(name, description, dataset, formula_r, formula_py, data, w,
                     weights_py, newdata, separated = FALSE) {
  fit <- fit_nnet(formula_r, data, w)
  lev <- fit$lev
  cf <- coef(fit)                       # (K-1) x p, rows = levels
  if (is.null(dim(cf))) cf <- matrix(cf, nrow = 1, dimnames = list(lev[2], names(cf)))
  out <- list(
    name = name, description = description, dataset = dataset,
    formula_r = formula_r, formula_py = formula_py, weights = weights_py,
    levels = lev, baseline = lev[1], coef_names_r = colnames(cf),
    separated = separated,
    nnet_polish_rounds = fit$polish_rounds,
    nnet_coefficients = I(t(cf)),     # p x (K-1): rows = terms, columns = levels
    nnet_deviance = fit$deviance, nnet_aic = fit$AIC
  )
  if (!separated) {
    se <- summary(fit)$standard.errors
    if (is.null(dim(se))) se <- matrix(se, nrow = 1)
    out$nnet_bse <- I(t(se))
    mf <- model.frame(as.formula(formula_r), data)
    X <- model.matrix(as.formula(formula_r), mf)
    yf <- factor(model.response(mf), levels = lev)
    Y <- outer(as.integer(yf), seq_along(lev), "==") * 1
    ex <- newton_polish(X, Y, w, t(cf))
    p <- ncol(X); K <- length(lev)
    bse <- matrix(sqrt(diag(ex$cov)), p)
    fit0 <- fit_nnet(as.formula(paste(all.vars(as.formula(formula_r))[1], "~ 1")), data, w)
    ex0 <- newton_polish(matrix(1, nrow(X), 1), Y, w, t(coef(fit0)))
    nd_mf <- model.frame(delete.response(terms(as.formula(formula_r))), newdata,
                         xlev = fit$xlevels)
    Xn <- model.matrix(delete.response(terms(as.formula(formula_r))), nd_mf,
                       contrasts.arg = fit$contrasts)
    etan <- cbind(0, Xn %*% ex$B)
    Pn <- exp(etan - apply(etan, 1, max)); Pn <- Pn / rowSums(Pn)
    cov_lab <- as.vector(outer(colnames(X), lev[-1], function(t, l) paste0(l, ":", t)))
    dimnames(ex$cov) <- list(cov_lab, cov_lab)
    nobs <- sum(w)  # nnet's logLik: nobs = sum of the case weights (used by BIC)
    edf <- p * (K - 1)
    out <- c(out, list(
      params = I(ex$B), bse = I(bse), cov_params = ex$cov, cov_names = cov_lab,
      llf = ex$ll, deviance = -2 * ex$ll, llnull = ex0$ll, null_deviance = -2 * ex0$ll,
      aic = -2 * ex$ll + 2 * edf, bic = -2 * ex$ll + edf * log(nobs),
      bic_r = BIC(fit), nobs = nobs, nobs_r = attr(logLik(fit), "nobs"), edf = edf,
      df_resid = nobs - edf, newton_iter = ex$iter,
      max_abs_diff_nnet_exact = max(abs(t(cf) - ex$B)),
      fitted_rows = I(1:6), fitted = ex$P[1:6, , drop = FALSE],
      nnet_fitted = fitted(fit)[1:6, , drop = FALSE],
      newdata = lapply(as.list(newdata), function(v) I(if (is.numeric(v)) as.double(v) else as.character(v))),
      predict = Pn,
      nnet_predict = predict(fit, newdata = newdata, type = "probs")
    ))
    if (is.null(dim(out$nnet_predict)))
      out$nnet_predict <- cbind(1 - out$nnet_predict, out$nnet_predict)
    cat(sprintf("%s: nnet vs exact max |diff| = %.3g (%d polish rounds), deviance %.12g vs %.12g\n",
                name, out$max_abs_diff_nnet_exact, fit$polish_rounds, fit$deviance, -2 * ex$ll))
  } else {
    cat(sprintf("%s: separated; nnet deviance %.6g, max |coef| %.4g\n",
                name, fit$deviance, max(abs(cf))))
  }
  write_case(out, out_dir, check = character(0), null = "list")  # NULL weights as {}
}

## ---------------------------------------------------------------------------
## Data and cases
## ---------------------------------------------------------------------------
ir <- iris
names(ir) <- c("SepalLength", "SepalWidth", "PetalLength", "PetalWidth", "Species")
write_dataset(ir, "iris.csv")

hs <- MASS::housing
for (v in c("Sat", "Infl", "Type", "Cont")) hs[[v]] <- factor(as.character(hs[[v]]),
                                                                levels = levels(hs[[v]]))
write_dataset(hs, "housing.csv")

set.seed(20240517)
n <- 400
sim <- data.frame(x1 = round(rnorm(n), 6), x2 = round(runif(n, -2, 2), 6),
                  g = factor(sample(c("a", "b", "c"), n, replace = TRUE)))
Bt <- cbind(c(0.3, 0.8, -0.5, 0.4, -0.2), c(-0.4, -0.6, 0.7, 0.1, 0.5), c(0.2, 0.3, 0.3, -0.6, 0.9))
Xs <- model.matrix(~ x1 + x2 + g, sim)
es <- cbind(0, Xs %*% Bt)
ps <- exp(es) / rowSums(exp(es))
sim$y <- factor(c("A", "B", "C", "D")[apply(ps, 1, function(pr) sample(4, 1, prob = pr))])
write_dataset(sim, "multinom_sim4.csv")

run_case("iris_sepal_length", "iris: Species on sepal length (3 levels, baseline setosa)",
         "iris.csv", "Species ~ SepalLength", "Species ~ SepalLength", ir, rep(1, nrow(ir)),
         NULL, data.frame(SepalLength = c(4.5, 5.8, 7.2)))
run_case("housing_weighted",
         "MASS housing: satisfaction on influence, type, contact; weights = Freq (MASS book)",
         "housing.csv", "Sat ~ Infl + Type + Cont", "Sat ~ Infl + Type + Cont", hs, hs$Freq,
         "Freq", data.frame(Infl = c("Low", "High", "Medium"),
                            Type = c("Tower", "Atrium", "Terrace"),
                            Cont = c("High", "Low", "High")))
run_case("sim4", "simulated, 4 levels (baseline A), numeric and 3-level factor predictors",
         "multinom_sim4.csv", "y ~ x1 + x2 + g", "y ~ x1 + x2 + g", sim, rep(1, n), NULL,
         data.frame(x1 = c(-1, 0.5), x2 = c(1.5, -0.3), g = c("c", "a")))
run_case("iris_separated", "iris: Species on sepal length and width (setosa separable: no MLE)",
         "iris.csv", "Species ~ SepalLength + SepalWidth", "Species ~ SepalLength + SepalWidth",
         ir, rep(1, nrow(ir)), NULL, NULL, separated = TRUE)

## make_glmnet.R -- glmnet reference paths for glmlogit's penalized fits.
##
## Run by hand (CI never runs R; the Python tests only read the outputs):
##
##     cd tests/reference && Rscript make_glmnet.R
##
## (read_data is in common.R, sourced from this directory).
##
## Reads data/birthwt.csv and data/insurance.csv (written by make_reference.R, so the
## rows are exactly those of the glm fixtures) and writes glmnet/<case>.json, one file
## per case, each holding the design matrix it was fitted on (no intercept column),
## the response, prior weights, offset, and glmnet's lambda sequence, coefficients
## (intercept first), dev.ratio and nulldev.
##
## Naming: glmnet's lambda is glmlogit's alpha, glmnet's alpha is glmlogit's l1_ratio.
## Every fit uses standardize = FALSE (except the one case that tests standardization),
## thresh = 1e-14 and maxit = 1e7, and glmnet.control(fdev = 0, devmax = 1) so the path
## is never cut short.  Numbers are written with sprintf("%.17g") (jsonlite keeps at
## most 15 significant digits), so every double round-trips exactly.
##
## Tested with R 4.1 (glmnet 4.1-6, jsonlite 1.8).

suppressPackageStartupMessages({
  library(glmnet)
  library(jsonlite)
})
options(warn = 1)
source("common.R")

out_dir <- "glmnet"
dir.create(out_dir, showWarnings = FALSE)
glmnet.control(fdev = 0, devmax = 1)

num <- function(x) {
  x <- as.numeric(x)
  structure(paste0("[", paste(sprintf("%.17g", x), collapse = ","), "]"), class = "json")
}
mat <- function(m) {  # list of rows
  structure(paste0("[", paste(apply(m, 1, function(r) unclass(num(r))), collapse = ","), "]"),
            class = "json")
}

write_glmnet_case <- function(name, description, x, y, family, alpha, weights = NULL,
                              offset = NULL, penalty.factor = NULL, standardize = FALSE,
                              nlambda = 20, lambda.min.ratio = 1e-3) {
  n <- nrow(x)
  w <- if (is.null(weights)) rep(1, n) else weights
  o <- if (is.null(offset)) rep(0, n) else offset
  pf <- if (is.null(penalty.factor)) rep(1, ncol(x)) else penalty.factor
  fit <- glmnet(x, y, family = family, alpha = alpha, weights = w, offset = if (is.null(offset)) NULL else o,
                penalty.factor = pf, standardize = standardize, thresh = 1e-14,
                maxit = 1e7, nlambda = nlambda, lambda.min.ratio = lambda.min.ratio)
  cf <- as.matrix(coef(fit))            # (p + 1) x nlambda, intercept first
  ## glmnet's own convergence check: KKT residuals of the returned solutions.
  kkt <- sapply(seq_along(fit$lambda), function(k) {
    b0 <- cf[1, k]; b <- cf[-1, k]
    eta <- drop(x %*% b) + b0 + o
    mu <- if (family == "binomial") plogis(eta) else exp(eta)
    g <- drop(crossprod(x, w * (y - mu))) / sum(w)
    lam <- fit$lambda[k]
    pfs <- pf * length(pf) / sum(pf)
    ## standardize = TRUE penalizes s_j b_j (s_j the 1/n weighted sd): weights s and s^2
    s <- if (standardize) {
      m <- colSums(w * x) / sum(w)
      sqrt(colSums(w * sweep(x, 2, m)^2) / sum(w))
    } else rep(1, ncol(x))
    r <- ifelse(b != 0,
                abs(g - lam * (1 - alpha) * pfs * s^2 * b - lam * alpha * pfs * s * sign(b)),
                pmax(0, abs(g) - lam * alpha * pfs * s))
    max(r)
  })
  ## For alpha = 0 glmnet returns all-zero penalized coefficients at its first lambda
  ## (lambda_max computed as for alpha = 0.001) instead of the ridge solution there:
  ## that column is not a solution and the tests skip it.
  if (alpha == 0) kkt[1] <- NA
  case <- list(
    name = name,
    description = description,
    family = family,
    l1_ratio = alpha,
    standardize = standardize,
    nlambda = nlambda,
    lambda_min_ratio = lambda.min.ratio,
    columns = colnames(x),
    x = mat(x),
    y = num(y),
    weights = num(w),
    offset = num(o),
    has_offset = !is.null(offset),
    penalty_factor = num(pf),
    alphas = num(fit$lambda),
    coefs = mat(t(cf)),
    dev_ratio = num(fit$dev.ratio),
    nulldev = num(fit$nulldev),
    kkt_max = num(ifelse(is.na(kkt), -1, kkt)),  # -1: not a solution (ridge's first lambda)
    first_is_solution = alpha != 0,
    glmnet_version = as.character(packageVersion("glmnet")),
    r_version = R.version.string
  )
  writeLines(toJSON(case, auto_unbox = TRUE, json_verbatim = TRUE, pretty = FALSE),
             file.path(out_dir, paste0(name, ".json")))
  cat(sprintf("%-28s %3d lambdas, max KKT residual %.2g\n", name, length(fit$lambda),
              max(kkt, na.rm = TRUE)))
}

## ---------------------------------------------------------------------------
## birthwt: binomial logit on numeric columns
## ---------------------------------------------------------------------------
bw <- read_data("birthwt.csv")
xb <- as.matrix(bw[, c("age", "lwt", "smoke", "ptl", "ht", "ui", "ftv")])
storage.mode(xb) <- "double"
yb <- as.numeric(bw$low)

write_glmnet_case("birthwt_lasso", "birthwt low ~ age + lwt + smoke + ptl + ht + ui + ftv, lasso",
                  xb, yb, "binomial", alpha = 1)
write_glmnet_case("birthwt_enet", "birthwt, elastic net l1_ratio 0.5", xb, yb, "binomial", alpha = 0.5)
write_glmnet_case("birthwt_ridge", "birthwt, ridge (lambda_max as for alpha = 0.001, as glmnet)",
                  xb, yb, "binomial", alpha = 0, lambda.min.ratio = 1e-4)
write_glmnet_case("birthwt_weights_pf",
                  "birthwt with prior weights w and penalty factors (one zero: unpenalized), l1_ratio 0.7",
                  xb, yb, "binomial", alpha = 0.7, weights = as.numeric(bw$w),
                  penalty.factor = c(1, 0.5, 2, 1, 0, 1, 1))
write_glmnet_case("birthwt_standardize", "birthwt, lasso with standardize = TRUE", xb, yb,
                  "binomial", alpha = 1, standardize = TRUE)

## ---------------------------------------------------------------------------
## Insurance: Poisson log with offset log(Holders), treatment dummies
## ---------------------------------------------------------------------------
ins <- read_data("insurance.csv")      # Group, Age: factors with sorted levels
ins$District <- factor(ins$District)   # labels "1".."4" read back as integers
xi <- model.matrix(~ District + Group + Age, ins)[, -1]
yi <- as.numeric(ins$Claims)

write_glmnet_case("insurance_lasso", "Insurance Claims ~ District + Group + Age, offset log(Holders), lasso",
                  xi, yi, "poisson", alpha = 1, offset = ins$log_holders)
write_glmnet_case("insurance_enet", "Insurance, elastic net l1_ratio 0.3", xi, yi, "poisson",
                  alpha = 0.3, offset = ins$log_holders)
write_glmnet_case("insurance_ridge", "Insurance, ridge", xi, yi, "poisson", alpha = 0,
                  offset = ins$log_holders, lambda.min.ratio = 1e-4)

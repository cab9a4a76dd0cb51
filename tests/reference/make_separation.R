## make_separation.R -- R reference results for glmlogit's separation check.
##
## Run by hand (CI never runs R; the Python tests only read the outputs):
##
##     cd tests/reference && Rscript make_separation.R
##
## (the CSV writer, write_dataset, is in common.R, sourced from this directory).
##
## Writes
##   data/<dataset>.csv        the data sets used here that the core fixtures do
##                             not already carry (endometrial, lizards, two toys);
##   separation/<case>.json    one file per case: the model matrix, response,
##                             prior weights, and the separation check's result.
##
## The check is the linear program of Konis (2007) exactly as R's
## detectseparation::detect_separation runs it (method "glm.fit", the default
## control: linear_program = "primal", purpose = "find", beta_tolerance =
## sqrt(.Machine$double.eps)).  Debian's brglm2 0.9 no longer carries
## detect_separation (it moved to the detectseparation package, which Debian
## lacks), so the same steps are written out below with lpSolve:
##
##   1. aliased columns: qr(x) with R's default tol 1e-7; the columns in
##      qr$pivot[(rank + 1):p] are dropped and reported as NA ("aliased");
##   2. rows with prior weight 0 are dropped;
##   3. rows with y == 1 and y == 0 are kept, and every row with 0 < y < 1
##      (a proportion with both successes and failures) is entered twice, once
##      as a failure and once as a success;
##   4. with s_i = +1 for a success and -1 for a failure, the bounded primal
##          maximise   sum_i s_i x_i'b
##          subject to s_i x_i'b >= 0 (all i),  -1 <= b_j <= 1
##      is solved; detectseparation calls lpSolveAPI with bounds [-1, 1].
##      lpSolve::lp has no bounds (variables are >= 0), so the LP is solved in
##      c = b + 1, 0 <= c_j <= 2: an affine change of variables that maps the
##      feasible polytope and its vertices one-to-one onto the original;
##   5. separation iff some |b_j| > beta_tolerance; coefficient j's estimate
##      is infinite with the sign of b_j when |b_j| > beta_tolerance, finite
##      otherwise.
##
## On top of what detectseparation reports, each case records
##   * beta_min / beta_max: the range of every b_j over the whole optimal face
##     of the LP (two more LPs per coefficient, with the objective held at its
##     optimum).  The per-coefficient directions are a property of the data
##     only when the range does not cross 0; for every case here it does not,
##     so any LP solver that finds an optimal vertex must agree;
##   * the maximal set of perfectly predicted rows (rows strictly separated by
##     some b in the cone {b : s_i x_i'b >= 0}), from the LP
##          maximise sum_i t_i  s.t.  s_i x_i'b >= t_i, 0 <= t_i <= 1, b free,
##     whose optimum is the number of such rows (t_i = 1 exactly for them);
##     status "complete" when that is every row, "quasi-complete" when it is
##     some, "none" when no row;
##   * glm's own divergence: glm.fit refitted with epsilon = 1e-300 (so it runs to
##     maxit) at maxit = 10 and maxit = 20.  The coefficients found infinite
##     move by more than 1 between the two, in the direction of b; the finite
##     ones move by less than 1e-6.  The script stops if that fails.
##
## Tested with R 4.2.2 (brglm2 0.9, lpSolve 5.6, MASS 7.3, jsonlite 1.8).

suppressPackageStartupMessages({
  library(MASS)
  library(brglm2)
  library(lpSolve)
  library(jsonlite)
})
options(digits = 17, warn = 1)
source("common.R")

data_dir <- "data"
out_dir <- "separation"
dir.create(data_dir, showWarnings = FALSE)
dir.create(out_dir, showWarnings = FALSE)

BETA_TOL <- sqrt(.Machine$double.eps)   # detect_separation_control()'s default
QR_TOL <- 1e-7                          # qr()'s default

## ---------------------------------------------------------------------------
## The Konis LP (detectseparation's steps 1-5), plus the extras described above
## ---------------------------------------------------------------------------

reshape_rows <- function(x, y, w) {
  keep <- which(w > 0)
  yk <- y[keep]
  ones <- keep[yk == 1]
  zeros <- keep[yk == 0]
  nb <- keep[!(yk == 1 | yk == 0)]
  list(src = c(ones, zeros, rep(nb, 2)),   # detectseparation's order
       s = c(rep(1, length(ones)), rep(-1, length(zeros)),
             rep(c(-1, 1), each = length(nb))))
}

## max obj'b  s.t.  A b >= 0,  -1 <= b <= 1   (in c = b + 1)
## extra: optional extra constraint rows (G c >= h), returns b
box_lp <- function(A, obj, direction = "max", G = NULL, h = NULL) {
  p <- ncol(A)
  const <- rbind(A, diag(p))
  dir <- c(rep(">=", nrow(A)), rep("<=", p))
  rhs <- c(rowSums(A), rep(2, p))
  if (!is.null(G)) {
    const <- rbind(const, G)
    dir <- c(dir, rep(">=", nrow(G)))
    rhs <- c(rhs, h)
  }
  r <- lp(direction, obj, const, dir, rhs)
  if (r$status != 0) stop("lpSolve status ", r$status)
  list(beta = r$solution - 1, objval = r$objval - sum(obj))
}

konis <- function(x, y, w) {
  p_all <- ncol(x)
  qrx <- qr(x, tol = QR_TOL)
  aliased <- if (qrx$rank < p_all) qrx$pivot[seq.int(qrx$rank + 1, p_all)] else integer(0)
  kept <- setdiff(seq_len(p_all), aliased)
  xr <- x[, kept, drop = FALSE]
  rr <- reshape_rows(xr, y, w)
  A <- rr$s * xr[rr$src, , drop = FALSE]
  dimnames(A) <- NULL
  obj <- colSums(A)
  sol <- box_lp(A, obj)
  beta <- sol$beta
  separation <- any(abs(beta) > BETA_TOL)
  ## range of each b_j over the optimal face
  p <- ncol(A)
  opt_row <- matrix(obj, nrow = 1)
  opt_rhs <- sol$objval + sum(obj) - 1e-9 * (1 + abs(sol$objval))
  bmin <- bmax <- numeric(p)
  for (j in seq_len(p)) {
    e <- numeric(p); e[j] <- 1
    bmin[j] <- box_lp(A, e, "min", opt_row, opt_rhs)$beta[j]
    bmax[j] <- box_lp(A, e, "max", opt_row, opt_rhs)$beta[j]
  }
  ## maximal set of strictly separated rows: variables (u, v, t), b = u - v
  n <- nrow(A)
  const <- rbind(cbind(A, -A, -diag(n)), cbind(matrix(0, n, 2 * p), diag(n)))
  r <- lp("max", c(rep(0, 2 * p), rep(1, n)), const,
          c(rep(">=", n), rep("<=", n)), c(rep(0, n), rep(1, n)))
  if (r$status != 0) stop("lpSolve status ", r$status, " (cone LP)")
  t <- r$solution[2 * p + seq_len(n)]
  strict <- t > 0.5
  n_sep <- sum(strict)
  status <- if (n_sep == 0) "none" else if (n_sep == n) "complete" else "quasi-complete"
  if ((n_sep > 0) != separation) stop("Konis LP and cone LP disagree")
  sep_rows <- sort(unique(rr$src[strict]))
  ## a proportion row cannot be strictly separated (its two copies cancel)
  stopifnot(all(y[sep_rows] %in% c(0, 1)))

  dirs <- rep("finite", p_all)
  bfull <- rep(NA_real_, p_all)
  bfull[kept] <- beta
  dirs[kept][beta > BETA_TOL] <- "+inf"
  dirs[kept][beta < -BETA_TOL] <- "-inf"
  dirs[aliased] <- "aliased"
  names(dirs) <- colnames(x)
  bmin_full <- bmax_full <- rep(NA_real_, p_all)
  bmin_full[kept] <- bmin
  bmax_full[kept] <- bmax
  unique_dirs <- all(sign(round(bmin / BETA_TOL)) == sign(round(bmax / BETA_TOL)))
  list(separation = separation, status = status, directions = dirs,
       beta = bfull, beta_min = bmin_full, beta_max = bmax_full,
       directions_unique = unique_dirs,
       n_separated = n_sep, separated_rows = sep_rows - 1L,   # 0-based for Python
       n_lp_rows = n, aliased = colnames(x)[aliased])
}

## glm's own divergence, as a check on the LP.  glm.fit is run on the model
## matrix without the aliased columns: with epsilon = 1e-300 glm.fit's own QR
## tolerance, min(1e-7, epsilon / 1000), would no longer detect them.
glm_divergence <- function(x, y, w, aliased) {
  keep <- !(colnames(x) %in% aliased)
  fit_at <- function(maxit) {
    b <- rep(NA_real_, ncol(x))
    b[keep] <- suppressWarnings(coef(glm.fit(
      x[, keep, drop = FALSE], y, weights = w, family = binomial("logit"),
      control = glm.control(epsilon = 1e-300, maxit = maxit))))
    b
  }
  b10 <- fit_at(10)
  b20 <- fit_at(20)
  list(coef_maxit10 = b10, coef_maxit20 = b20, change = b20 - b10)
}

## Under complete separation every separating direction in an open cone will
## do: the LP's vertex is one of them and glm heads for another (the
## maximum-margin one), so only |change| > 1 is required there; under
## quasi-complete separation with a unique LP optimum the signs must agree.
check_divergence <- function(res, dv) {
  ch <- dv$change
  for (j in seq_along(res$directions)) {
    d <- res$directions[[j]]
    nm <- names(res$directions)[j]
    if (d == "aliased") {
      stopifnot(is.na(ch[j]))
    } else if (d == "finite") {
      if (!(abs(ch[j]) < 1e-6))
        stop(sprintf("%s: finite by the LP but glm moved it by %g", nm, ch[j]))
    } else {
      sgn <- if (d == "+inf") 1 else -1
      ok <- if (res$status == "complete") abs(ch[j]) > 1 else sgn * ch[j] > 1
      if (!ok) stop(sprintf("%s: %s by the LP but glm moved it by %g", nm, d, ch[j]))
    }
  }
  invisible(TRUE)
}

## ---------------------------------------------------------------------------
## Cases
## ---------------------------------------------------------------------------

cases <- list()

## brglm2's endometrial data (Heinze & Schemper 2002): NV = 1 only with HG = 1
endo <- brglm2::endometrial
rownames(endo) <- NULL
write_dataset(endo, "endometrial.csv")
cases$endometrial <- list(
  data = endo, dataset = "endometrial.csv", formula = HG ~ NV + PI + EH,
  description = "brglm2's endometrial data, HG ~ NV + PI + EH: quasi-complete separation in NV")

## the same with an aliased column: NVc = 1 - NV (= Intercept - NV)
endo_al <- endo
endo_al$NVc <- 1 - endo_al$NV
cases$endometrial_aliased <- list(
  data = endo_al, dataset = "endometrial.csv", formula = HG ~ NV + PI + EH + NVc,
  description = "endometrial with NVc = 1 - NV added after NV: NVc aliased, NV still +inf")

## completely separated toy sets: y = 1 exactly when x >= 5 (one covariate:
## the LP's optimum is unique, b = (-1, 1/4), and glm diverges along it);
## y = 1 exactly when x1 + x2 / 4 > 4.6 (two covariates)
toy1 <- data.frame(x = c(1, 2, 3, 4, 5, 6, 7, 8))
toy1$y <- as.numeric(toy1$x >= 5)
write_dataset(toy1, "sep_toy_complete1.csv")
cases$toy_complete1 <- list(
  data = toy1, dataset = "sep_toy_complete1.csv", formula = y ~ x,
  description = "toy data completely separated by x = 4.5")

toy <- data.frame(
  x1 = c(1, 2, 3, 4, 5, 6, 7, 8, 2.5, 6.5),
  x2 = c(0.3, -1.2, 2.0, 0.7, 1.5, -0.4, 0.9, -2.0, 1.1, -0.8))
toy$y <- as.numeric(toy$x1 + toy$x2 / 4 > 4.6)
write_dataset(toy, "sep_toy_complete2.csv")
cases$toy_complete2 <- list(
  data = toy, dataset = "sep_toy_complete2.csv", formula = y ~ x1 + x2,
  description = "toy data completely separated by x1 + x2/4 = 4.6")

## a non-separated case: MASS::birthwt, low ~ age + lwt + race + smoke + ptl + ht + ui + ftv
bw <- MASS::birthwt
rownames(bw) <- NULL
bw$race <- factor(bw$race)
cases$birthwt <- list(
  data = bw, dataset = "birthwt.csv (MASS::birthwt; race as a factor 1/2/3)",
  formula = low ~ age + lwt + race + smoke + ptl + ht + ui + ftv,
  description = "MASS::birthwt logit: no separation")

## brglm2's lizards, cbind(grahami, opalinus) ~ height + diameter + light + time,
## entered as proportion grahami / (grahami + opalinus) with trials as weights
liz <- brglm2::lizards
rownames(liz) <- NULL
liz$trials <- liz$grahami + liz$opalinus
liz$prop <- liz$grahami / liz$trials
write_dataset(liz, "lizards.csv")
cases$lizards <- list(
  data = liz, dataset = "lizards.csv", formula = prop ~ height + diameter + light + time,
  weights = "trials",
  description = paste("brglm2's lizards, proportion grahami/(grahami+opalinus) with trials as",
                      "weights; 4 rows have opalinus = 0 (y = 1) but the rest overlap: no separation"))

## proportions, zero weights, a zero cell: group b has only successes
prop <- data.frame(
  g = c("a", "a", "a", "a", "b", "b", "b", "b"),
  y = c(0.25, 0.5, 0.4, 0, 1, 1, 0, 0.5),
  n = c(4, 6, 5, 3, 3, 2, 0, 0))
write_dataset(prop, "sep_toy_prop.csv")
cases$toy_prop <- list(
  data = prop, dataset = "sep_toy_prop.csv", formula = y ~ g, weights = "n",
  description = paste("proportions with trials and zero weights: in group b every row with",
                      "trials > 0 is all successes (the two rows with weight 0, a failure and a",
                      "proportion, do not count): quasi-complete separation in gb"))

## ---------------------------------------------------------------------------
## Run
## ---------------------------------------------------------------------------

summary_rows <- list()
for (name in names(cases)) {
  cs <- cases[[name]]
  mf <- model.frame(cs$formula, cs$data)
  x <- model.matrix(cs$formula, cs$data)
  y <- model.response(mf)
  w <- if (is.null(cs$weights)) rep(1, nrow(x)) else cs$data[[cs$weights]]
  res <- konis(x, y, w)
  if (!res$directions_unique) stop(name, ": the LP's optimal face crosses 0 in some coefficient")
  dv <- glm_divergence(x, as.numeric(y), w, res$aliased)
  check_divergence(res, dv)
  coef_names <- colnames(x)
  coef_names[coef_names == "(Intercept)"] <- "Intercept"
  names(res$directions) <- coef_names
  out <- list(
    name = name, description = cs$description, dataset = cs$dataset,
    formula_r = paste(deparse(cs$formula), collapse = ""),
    weights = if (is.null(cs$weights)) NULL else cs$weights,
    coef_names = I(coef_names), coef_names_r = I(colnames(x)),
    x = unname(x), y = I(unname(as.numeric(y))), prior_weights = I(as.numeric(w)),
    separation = res$separation, status = res$status,
    directions = as.list(res$directions),
    lp_beta = I(res$beta), lp_beta_min = I(res$beta_min), lp_beta_max = I(res$beta_max),
    directions_unique = res$directions_unique,
    aliased = I(res$aliased),
    n_lp_rows = res$n_lp_rows, n_separated = res$n_separated,
    separated_rows = I(res$separated_rows),
    glm_coef_maxit10 = I(dv$coef_maxit10), glm_coef_maxit20 = I(dv$coef_maxit20),
    beta_tolerance = BETA_TOL,
    r_version = R.version.string,
    packages = list(lpSolve = as.character(packageVersion("lpSolve")),
                    brglm2 = as.character(packageVersion("brglm2")))
  )
  write_json(out, file.path(out_dir, paste0(name, ".json")), auto_unbox = TRUE,
             digits = NA, null = "null", na = "null", pretty = TRUE)
  summary_rows[[name]] <- data.frame(
    case = name, status = res$status, n_sep = res$n_separated,
    directions = paste(sprintf("%s=%s", coef_names, res$directions), collapse = " "))
}
print(do.call(rbind, summary_rows), row.names = FALSE, right = FALSE)

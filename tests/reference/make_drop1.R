# R references for drop1 (single-term deletions) and per-coefficient LR tests.
# Run by hand:  cd tests/reference && Rscript make_drop1.R  (sources common.R for read_data)
# Fits use glm.control(epsilon = 1e-15, maxit = 1000) so that the full model and every refit
# inside drop1 are at the exact MLE (none of these designs is rank deficient, so the tiny epsilon
# cannot disturb R's QR rank detection).  Doubles are written with 17 significant digits.
suppressMessages(library(jsonlite))
options(digits = 17)
source("common.R")
ctl <- glm.control(epsilon = 1e-15, maxit = 1000)
num <- function(x) ifelse(is.na(x), "null", sprintf("%.17g", x))
arr <- function(x) paste0("[", paste(num(x), collapse = ", "), "]")
fams <- list(binomial = binomial, poisson = poisson, gaussian = gaussian, gamma = Gamma)

cases <- list(
  list(name = "birthwt_logit", data = "birthwt.csv", f = "low ~ age + lwt + race + smoke + ptl + ht + ui",
       fpy = "low ~ age + lwt + C(race) + smoke + ptl + ht + ui", family = "binomial", link = "logit",
       factors = c("race"), offset = NULL, weights = NULL),
  list(name = "insurance_poisson_offset", data = "insurance.csv", f = "Claims ~ District + Group + Age",
       fpy = "Claims ~ C(District) + C(Group) + C(Age)", family = "poisson", link = "log",
       factors = c("District", "Group", "Age"), offset = "log_holders", weights = NULL),
  list(name = "warpbreaks_poisson", data = "warpbreaks.csv", f = "breaks ~ wool * tension",
       fpy = "breaks ~ C(wool) * C(tension)", family = "poisson", link = "log",
       factors = c("wool", "tension"), offset = NULL, weights = NULL),
  list(name = "mtcars_gaussian", data = "mtcars.csv", f = "mpg ~ wt + hp + cyl",
       fpy = "mpg ~ wt + hp + C(cyl)", family = "gaussian", link = "identity",
       factors = c("cyl"), offset = NULL, weights = NULL),
  list(name = "clotting_gamma_log", data = "clotting.csv", f = "lot1 ~ log(u) + lot2",
       fpy = "lot1 ~ np.log(u) + lot2", family = "gamma", link = "log",
       factors = character(0), offset = NULL, weights = NULL)
)

for (cs in cases) {
  df <- read_data(cs$data)  # string columns as factors with sorted levels
  for (v in cs$factors) df[[v]] <- factor(df[[v]])  # and the numeric-coded ones (cyl, District)
  args <- list(formula = as.formula(cs$f), data = df, family = fams[[cs$family]](link = cs$link),
               control = ctl)
  if (!is.null(cs$offset)) args$offset <- df[[cs$offset]]
  fit <- do.call(glm, args)
  tests <- if (cs$family %in% c("binomial", "poisson")) c("LRT") else c("LRT", "F")
  out <- c(sprintf('"name": "%s"', cs$name), sprintf('"dataset": "%s"', cs$data),
           sprintf('"formula_r": "%s"', cs$f), sprintf('"formula_py": "%s"', cs$fpy),
           sprintf('"family": "%s"', cs$family), sprintf('"link": "%s"', cs$link),
           sprintf('"offset": %s', if (is.null(cs$offset)) "null" else sprintf('"%s"', cs$offset)))
  for (tt in tests) {
    d <- drop1(fit, test = tt)
    stat <- if (tt == "LRT") d[[4]] else d[["F value"]]
    pv <- if (tt == "LRT") d[["Pr(>Chi)"]] else d[["Pr(>F)"]]
    out <- c(out, sprintf('"drop1_%s": {"term": %s, "df": %s, "deviance": %s, "aic": %s, "statistic": %s, "pvalue": %s}',
      tt, toJSON(rownames(d)), arr(d$Df), arr(d$Deviance), arr(d$AIC), arr(stat), arr(pv)))
  }
  writeLines(paste0("{\n  ", paste(out, collapse = ",\n  "), "\n}"), file.path("drop1", paste0(cs$name, ".json")))
  cat(cs$name, "ok\n")
}

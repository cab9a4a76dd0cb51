## common.R -- helpers shared by the make_*.R scripts in this directory.
##
## Not run on its own: each script starts with
##
##     source("common.R")
##
## and is run from this directory (cd tests/reference && Rscript make_X.R), so
## the relative paths here ("common.R", "data/...") resolve.
##
## Defines
##   num2str, write_dataset, sorted_factor, read_data        CSV data sets;
##   json_num, full_precision, write_case                    JSON at full precision;
##   case_args                                               case-list constructors;
##   fit_glm, rel_change, fixed_point, REFIT_CONTROL         glm fits refitted to
##                                                           their fixed point.

suppressPackageStartupMessages(library(jsonlite))

## ---------------------------------------------------------------------------
## Numbers and CSV data sets
## ---------------------------------------------------------------------------

## Shortest decimal representation (15, 16 or 17 significant digits) that reads
## back as exactly the same double; NA as "NA", +-Inf as "Inf" / "-Inf".
## write.csv itself only keeps 15 digits.
num2str <- function(x) {
  vapply(x, function(v) {
    if (is.na(v)) return("NA")
    for (d in 15:17) {
      s <- formatC(v, digits = d, format = "g")
      if (as.numeric(s) == v) return(trimws(s))
    }
    stop("no round-trip representation for ", v)
  }, character(1), USE.NAMES = FALSE)
}

## Write `df` to dir/file (factors and strings -> quoted labels, logicals -> 0/1,
## numbers at full precision) and check that reading the file back gives
## identical values.
write_dataset <- function(df, file, dir = "data") {
  stopifnot(all(grepl("^[A-Za-z][A-Za-z0-9_]*$", names(df))))
  out <- df
  is_chr <- logical(ncol(df))
  for (j in seq_along(df)) {
    v <- df[[j]]
    if (is.factor(v) || is.character(v)) {
      out[[j]] <- as.character(v)
      is_chr[j] <- TRUE
    } else if (is.logical(v)) {
      out[[j]] <- as.integer(v)
    } else {
      out[[j]] <- num2str(v)
    }
  }
  path <- file.path(dir, file)
  write.csv(out, path, row.names = FALSE,
            quote = if (any(is_chr)) which(is_chr) else FALSE)
  back <- read.csv(path, stringsAsFactors = FALSE)
  for (j in seq_along(df)) {
    v <- df[[j]]
    ref <- if (is.factor(v) || is.character(v)) as.character(v)
           else if (is.logical(v)) as.integer(v) else as.numeric(v)
    got <- if (is.character(ref)) as.character(back[[j]]) else as.numeric(back[[j]])
    if (!identical(ref, got))
      stop(sprintf("%s: column %s does not round-trip", file, names(df)[j]))
  }
  invisible(path)
}

## A factor whose levels are the labels in sorted (C-locale / Python) order, so
## R's treatment-contrast reference level is the alphabetically first label,
## exactly as formulaic's C() chooses it.
sorted_factor <- function(x) {
  x <- as.character(x)
  factor(x, levels = sort(unique(x), method = "radix"))
}

## Read dir/file as written by write_dataset(); character columns become
## sorted_factor()s.  (Factors written with numeric labels, e.g. Insurance's
## District "1".."4", read back as integers: convert those by hand.)
read_data <- function(file, dir = "data") {
  df <- read.csv(file.path(dir, file), stringsAsFactors = FALSE)
  for (j in seq_along(df)) if (is.character(df[[j]])) df[[j]] <- sorted_factor(df[[j]])
  df
}

## ---------------------------------------------------------------------------
## JSON at full precision
## ---------------------------------------------------------------------------

## jsonlite (even with digits = NA or I(17)) writes at most 15 significant
## digits, so doubles are formatted here with num2str() (shortest round-trip
## form) and passed to write_json() verbatim.  NA / NaN become null.  +-Inf is
## an error, or with inf_as_string = TRUE the JSON strings "Inf" / "-Inf" (JSON
## has no infinity).
json_num <- function(x, inf_as_string = FALSE) {
  inf <- is.infinite(x)
  if (any(inf) && !inf_as_string) stop("non-finite value in JSON output")
  s <- num2str(as.numeric(x))
  s[is.na(x)] <- "null"
  s[inf] <- paste0("\"", s[inf], "\"")
  s
}

## Doubles (recursively, in lists) as verbatim JSON text: vectors marked with
## I() or of length != 1 become arrays, matrices arrays of rows.
full_precision <- function(obj, inf_as_string = FALSE) {
  if (is.list(obj)) {
    obj[] <- lapply(obj, full_precision, inf_as_string = inf_as_string)
    return(obj)
  }
  if (!is.double(obj)) return(obj)
  num <- function(x) json_num(x, inf_as_string)
  txt <- if (is.matrix(obj)) {
    rows <- apply(obj, 1, function(r) paste0("[", paste(num(r), collapse = ", "), "]"))
    paste0("[", paste(rows, collapse = ",\n    "), "]")
  } else if (inherits(obj, "AsIs") || length(obj) != 1L) {
    paste0("[", paste(num(obj), collapse = ", "), "]")
  } else {
    num(obj)
  }
  structure(txt, class = "json")
}

## Write the list `out` to dir/<out$name>.json (pretty, numbers at full
## precision) and check that the top-level fields named in `check` read back
## as exactly the same numbers; check = NULL: every double field whose values
## are all finite.  (Not every field can be checked: jsonlite's parser, unlike
## R's as.numeric(), which num2str() matches, reads a few 16-17 digit numbers
## one ulp differently.)  `null`: how write_json writes a NULL field ("null",
## or "list" for {}).
write_case <- function(out, dir, check = NULL, inf_as_string = FALSE, null = "null") {
  path <- file.path(dir, paste0(out$name, ".json"))
  write_json(full_precision(out, inf_as_string), path, auto_unbox = TRUE,
             json_verbatim = TRUE, digits = NA, null = null, na = "null", pretty = TRUE)
  if (is.null(check))
    check <- names(out)[vapply(out, function(v) is.double(v) && all(is.finite(v)), NA)]
  back <- fromJSON(path)
  for (key in check)
    if (!identical(unname(as.numeric(back[[key]])), unname(as.numeric(out[[key]]))))
      stop(out$name, ": JSON field ", key, " does not round-trip")
  invisible(path)
}

## ---------------------------------------------------------------------------
## Case lists
## ---------------------------------------------------------------------------

## Called as the body of a case constructor, e.g.
##   case <- function(name, formula, weights = NULL) case_args()
## returns the constructor's arguments as a named list, in order (NULL
## defaults kept as NULL elements).
case_args <- function() {
  mget(names(formals(sys.function(sys.parent()))), envir = parent.frame())
}

## ---------------------------------------------------------------------------
## glm fits at the exact MLE
## ---------------------------------------------------------------------------

REFIT_CONTROL <- glm.control(epsilon = 1e-8, maxit = 100)

## glm() for a case `cs` (fields formula_r, family, weights, offset) whose
## weights/offset are column *names* in `dat`, so that predict(newdata = ...)
## finds the offset in newdata as well.
fit_glm <- function(cs, dat, start = NULL, control = glm.control()) {
  args <- list(as.name("glm"), formula = as.formula(cs$formula_r),
               family = cs$family, data = as.name("dat"), control = control)
  if (!is.null(cs$weights)) args$weights <- as.name(cs$weights)
  if (!is.null(cs$offset)) args$offset <- as.name(cs$offset)
  if (!is.null(start)) args$start <- start
  eval(as.call(args), list(dat = dat), environment())
}

rel_change <- function(new, old) {
  ok <- !is.na(new) & !is.na(old)
  max(abs(new[ok] - old[ok]) / (abs(old[ok]) + 1e-300))
}

## R's default convergence test (relative change in deviance < 1e-8) can stop
## short of the MLE, and a much smaller epsilon upsets glm.fit's QR rank
## tolerance.  So refit with start = previous coefficients (NA -> 0) until the
## coefficients stop changing: relative change < rel_tol, no improvement for 5
## rounds (rounding level), or max_rounds refits.  `refit(start)` returns a fit
## with $coefficients.
fixed_point <- function(fit, refit, rel_tol = 1e-13, max_rounds = 200L) {
  rounds <- 0L
  best <- Inf
  stall <- 0L
  repeat {
    old <- fit$coefficients
    st <- old
    st[is.na(st)] <- 0
    fit <- refit(unname(st))
    rounds <- rounds + 1L
    new <- fit$coefficients
    if (!identical(is.na(new), is.na(old)))
      stop("aliasing pattern changed during refitting")
    rel <- rel_change(new, old)
    if (rel < rel_tol || rounds >= max_rounds) break
    if (rel < best) {
      best <- rel
      stall <- 0L
    } else {
      stall <- stall + 1L
      if (stall >= 5L) break  # no longer improving: at rounding level
    }
  }
  if (!fit$converged) stop("refit did not converge")
  list(fit = fit, rounds = rounds, last_rel = rel)
}

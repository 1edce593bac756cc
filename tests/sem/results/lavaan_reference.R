# Reference values for surveykit's SEM engine, computed with lavaan and semTools.
#
# Run from the repository root:
#
#     Rscript tests/sem/results/lavaan_reference.R
#
# Writes tests/sem/results/lavaan_reference.json and the datasets it used to
# tests/sem/data/*.csv (HolzingerSwineford1939, PoliticalDemocracy, HS1939 with
# a documented pattern of missing values, and the row indices of the bootstrap
# draws).  The JSON is nested as  cases -> <case> -> <quantity>; parameter
# tables are stored column-wise with lavaan's own column names, fit measures
# with lavaan's own names (dots, not underscores), every number at full double
# precision (jsonlite digits = NA), NA as null.
#
# R is not a runtime or CI dependency of surveykit: the tests read the JSON.

suppressPackageStartupMessages({
  library(lavaan)
  library(semTools)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
root <- if (length(script)) normalizePath(file.path(dirname(script), "..", "..", "..")) else getwd()
results_dir <- file.path(root, "tests", "sem", "results")
data_dir <- file.path(root, "tests", "sem", "data")
dir.create(data_dir, showWarnings = FALSE, recursive = TRUE)

# ---------------------------------------------------------------- helpers ----

# Column-wise list of a data frame; I() keeps length-1 columns as JSON arrays.
columns <- function(d) {
  d <- as.data.frame(d, stringsAsFactors = FALSE)
  out <- lapply(d, function(col) I(if (is.factor(col)) as.character(col) else unclass(col)))
  names(out) <- names(d)
  out
}

named <- function(x) as.list(setNames(as.numeric(x), names(x)))

# Full parameter table as lavaan prints it, with std.lv and std.all.
estimates <- function(fit, ...) {
  pe <- parameterEstimates(fit, standardized = TRUE, remove.eq = FALSE,
                           remove.ineq = FALSE, remove.system.eq = TRUE, ...)
  keep <- intersect(c("lhs", "op", "rhs", "block", "group", "label", "est", "se", "z",
                      "pvalue", "ci.lower", "ci.upper", "std.lv", "std.all"), names(pe))
  columns(pe[, keep])
}

fit_measures <- function(fit) {
  fm <- fitMeasures(fit)
  as.list(setNames(as.numeric(fm), names(fm)))
}

options_of <- function(fit) {
  o <- lavInspect(fit, "options")
  keys <- c("estimator", "se", "test", "information", "h1.information",
            "observed.information", "information.meat", "h1.information.meat",
            "missing", "meanstructure", "std.lv", "group.equal", "group.partial",
            "likelihood", "optim.method")
  lapply(o[intersect(keys, names(o))], function(v) I(as.character(v)))
}

r2 <- function(fit) {
  x <- lavInspect(fit, "r2")
  if (is.list(x)) lapply(x, named) else named(x)
}

lrt_table <- function(...) {
  tab <- suppressWarnings(lavTestLRT(...))
  d <- as.data.frame(tab)
  d <- cbind(model = rownames(d), d)
  columns(d)
}

case_common <- function(fit, model, call) {
  list(
    model = model,
    call = call,
    options = options_of(fit),
    converged = lavInspect(fit, "converged"),
    iterations = lavInspect(fit, "iterations"),
    nobs = I(as.integer(lavInspect(fit, "nobs"))),
    estimates = estimates(fit),
    fit = fit_measures(fit)
  )
}

# ------------------------------------------------------------------ data ----

hs <- HolzingerSwineford1939
pd <- PoliticalDemocracy
write.csv(hs, file.path(data_dir, "HolzingerSwineford1939.csv"), row.names = FALSE, na = "")
write.csv(pd, file.path(data_dir, "PoliticalDemocracy.csv"), row.names = FALSE, na = "")

# HS1939 with ~10% of the x1..x9 cells missing completely at random:
# a uniform draw per cell (row-major over the 301 x 9 block) after set.seed(20261121);
# a cell becomes NA when its draw is below 0.10.
missing_seed <- 20261121L
set.seed(missing_seed)
xs <- paste0("x", 1:9)
u <- matrix(runif(nrow(hs) * 9L), nrow = nrow(hs), ncol = 9L, byrow = TRUE)
hs_miss <- hs
for (j in seq_along(xs)) hs_miss[[xs[j]]][u[, j] < 0.10] <- NA
stopifnot(all(rowSums(is.na(hs_miss[, xs])) < 9L))
write.csv(hs_miss, file.path(data_dir, "HolzingerSwineford1939_missing.csv"),
          row.names = FALSE, na = "")

# ---------------------------------------------------------------- models ----

hs_model <- "visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9"

# The lavaan tutorial's PoliticalDemocracy model, structural paths labelled so
# that the indirect effect ind60 -> dem60 -> dem65 can be defined.
pd_model <- "# measurement model
ind60 =~ x1 + x2 + x3
dem60 =~ y1 + y2 + y3 + y4
dem65 =~ y5 + y6 + y7 + y8
# regressions
dem60 ~ a*ind60
dem65 ~ c*ind60 + b*dem60
# residual covariances
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8
# effects
ind   := a*b
total := c + a*b"

# Same model with loadings held equal over time through explicit == constraints
# (the tutorial does it with shared labels; both are recorded).
pd_model_eq <- "ind60 =~ x1 + x2 + x3
dem60 =~ y1 + l2*y2 + l3*y3 + l4*y4
dem65 =~ y5 + m2*y6 + m3*y7 + m4*y8
dem60 ~ a*ind60
dem65 ~ c*ind60 + b*dem60
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8
l2 == m2
l3 == m3
l4 == m4
ind := a*b"

pd_model_shared <- "ind60 =~ x1 + x2 + x3
dem60 =~ y1 + l2*y2 + l3*y3 + l4*y4
dem65 =~ y5 + l2*y6 + l3*y7 + l4*y8
dem60 ~ a*ind60
dem65 ~ c*ind60 + b*dem60
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8
ind := a*b"

cases <- list()

# ------------------------------------------------- (a) HS1939 CFA, ML ----

fit <- cfa(hs_model, data = hs)
case <- case_common(fit, hs_model, "cfa(model, data = HolzingerSwineford1939)")
case$r2 <- r2(fit)
mi <- modindices(fit)
case$modindices <- columns(mi[, c("lhs", "op", "rhs", "mi", "epc", "sepc.lv", "sepc.all")])
case$reliability <- list(
  # omega of each factor, denominator = observed total variance (semTools default)
  compRelSEM = named(compRelSEM(fit)),
  # denominator = model-implied total variance
  compRelSEM_implied = named(compRelSEM(fit, obs.var = FALSE)),
  AVE = named(AVE(fit)),
  AVE_implied = named(AVE(fit, obs.var = FALSE))
)
case$implied_cov <- unname(lavInspect(fit, "cov.ov"))
case$ov_names <- I(lavNames(fit, "ov"))
cases$hs_cfa <- case

fit <- cfa(hs_model, data = hs, std.lv = TRUE)
case <- case_common(fit, hs_model, "cfa(model, data = HolzingerSwineford1939, std.lv = TRUE)")
case$r2 <- r2(fit)
case$reliability <- list(compRelSEM = named(compRelSEM(fit)), AVE = named(AVE(fit)))
cases$hs_cfa_stdlv <- case

# --------------------------------------- (b) PoliticalDemocracy SEM, ML ----

fit_pd <- sem(pd_model, data = pd)
case <- case_common(fit_pd, pd_model, "sem(model, data = PoliticalDemocracy)")
case$r2 <- r2(fit_pd)
cases$pd_sem <- case

fit <- sem(pd_model_eq, data = pd)
case <- case_common(fit, pd_model_eq, "sem(model, data = PoliticalDemocracy)")
case$r2 <- r2(fit)
cases$pd_sem_eqcon <- case

fit <- sem(pd_model_shared, data = pd)
case <- case_common(fit, pd_model_shared, "sem(model, data = PoliticalDemocracy)")
case$r2 <- r2(fit)
cases$pd_sem_shared <- case

# ------------------------------------ (c) HS1939 invariance by school ----

inv_calls <- list(
  configural = list(),
  metric = list(group.equal = "loadings"),
  scalar = list(group.equal = c("loadings", "intercepts")),
  strict = list(group.equal = c("loadings", "intercepts", "residuals")),
  partial = list(group.equal = c("loadings", "intercepts"),
                 group.partial = c("x3 ~ 1", "x7 ~ 1"))
)
inv_fits <- list()
for (nm in names(inv_calls)) {
  a <- inv_calls[[nm]]
  fit <- do.call("cfa", c(list(model = hs_model, data = hs, group = "school"), a))
  inv_fits[[nm]] <- fit
  call <- sprintf("cfa(model, data = HolzingerSwineford1939, group = \"school\"%s)",
                  if (length(a)) paste0(", ", paste(sprintf("%s = %s", names(a),
                    vapply(a, function(v) deparse(v), "")), collapse = ", ")) else "")
  case <- case_common(fit, hs_model, call)
  case$group_labels <- I(lavInspect(fit, "group.label"))
  case$r2 <- r2(fit)
  cases[[paste0("hs_school_", nm)]] <- case
}
cases$hs_school_lrt <- list(
  call = "lavTestLRT(configural, metric, scalar, strict)",
  table = lrt_table(inv_fits$configural, inv_fits$metric, inv_fits$scalar, inv_fits$strict,
                    model.names = c("configural", "metric", "scalar", "strict")),
  metric_vs_configural = lrt_table(inv_fits$configural, inv_fits$metric,
                                   model.names = c("configural", "metric")),
  partial_vs_metric = lrt_table(inv_fits$metric, inv_fits$partial,
                                model.names = c("metric", "partial")),
  scalar_vs_partial = lrt_table(inv_fits$partial, inv_fits$scalar,
                                model.names = c("partial", "scalar"))
)

# --------------------------------------------------------------- (d) MLR ----

fit <- cfa(hs_model, data = hs, estimator = "MLR")
case <- case_common(fit, hs_model, "cfa(model, data = HolzingerSwineford1939, estimator = \"MLR\")")
case$r2 <- r2(fit)
cases$hs_cfa_mlr <- case

fit <- sem(pd_model, data = pd, estimator = "MLR")
case <- case_common(fit, pd_model, "sem(model, data = PoliticalDemocracy, estimator = \"MLR\")")
case$r2 <- r2(fit)
cases$pd_sem_mlr <- case

# equality constraints under MLR: explicit == and shared labels
fit <- sem(pd_model_eq, data = pd, estimator = "MLR")
cases$pd_sem_eqcon_mlr <- case_common(fit, pd_model_eq,
                                      "sem(model, data = PoliticalDemocracy, estimator = \"MLR\")")
fit <- sem(pd_model_shared, data = pd, estimator = "MLR")
cases$pd_sem_shared_mlr <- case_common(fit, pd_model_shared,
                                       "sem(model, data = PoliticalDemocracy, estimator = \"MLR\")")

# observed exogenous covariates (fixed.x = TRUE): their moments are fixed,
# which changes the Yuan-Bentler trace and the baseline model
cov_model <- "visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
visual ~ sex + ageyr
textual ~ visual + ageyr"
fit <- sem(cov_model, data = hs, estimator = "MLR")
cases$hs_covariates_mlr <- case_common(fit, cov_model,
                                       "sem(model, data = HolzingerSwineford1939, estimator = \"MLR\")")

mlr_conf <- cfa(hs_model, data = hs, group = "school", estimator = "MLR")
mlr_metric <- cfa(hs_model, data = hs, group = "school", estimator = "MLR",
                  group.equal = "loadings")
cases$hs_school_configural_mlr <- case_common(
  mlr_conf, hs_model, "cfa(model, data = HolzingerSwineford1939, group = \"school\", estimator = \"MLR\")")
cases$hs_school_metric_mlr <- case_common(
  mlr_metric, hs_model,
  "cfa(model, data = HolzingerSwineford1939, group = \"school\", estimator = \"MLR\", group.equal = \"loadings\")")
cases$hs_school_lrt_mlr <- list(
  call = "lavTestLRT(configural, metric)  # method = \"default\" -> satorra.bentler.2001",
  default = lrt_table(mlr_conf, mlr_metric, model.names = c("configural", "metric")),
  satorra_bentler_2001 = lrt_table(mlr_conf, mlr_metric, method = "satorra.bentler.2001",
                                   model.names = c("configural", "metric")),
  satorra_bentler_2010 = lrt_table(mlr_conf, mlr_metric, method = "satorra.bentler.2010",
                                   model.names = c("configural", "metric"))
)

# -------------------------------------------------------------- (e) FIML ----

fiml_sampstat <- function(fit) {
  s <- lavInspect(fit, "sampstat.h1")
  list(cov = unname(unclass(s$cov)), mean = I(unname(as.numeric(s$mean))))
}

fit <- cfa(hs_model, data = hs_miss, missing = "ml")
case <- case_common(fit, hs_model,
                    "cfa(model, data = HolzingerSwineford1939_missing, missing = \"ml\")")
case$r2 <- r2(fit)
case$h1 <- fiml_sampstat(fit)
case$ov_names <- I(lavNames(fit, "ov"))
case$n_patterns <- nrow(lavInspect(fit, "patterns"))
case$n_missing_cells <- sum(is.na(hs_miss[, xs]))
case$n_complete_rows <- sum(complete.cases(hs_miss[, xs]))
case$missing_seed <- missing_seed
cases$hs_cfa_fiml <- case

fit <- cfa(hs_model, data = hs_miss, missing = "ml", estimator = "MLR")
case <- case_common(fit, hs_model,
                    "cfa(model, data = HolzingerSwineford1939_missing, missing = \"ml\", estimator = \"MLR\")")
case$r2 <- r2(fit)
cases$hs_cfa_fiml_mlr <- case

# two groups with missing values and equal loadings (FIML, ML and MLR)
fit <- cfa(hs_model, data = hs_miss, missing = "ml", group = "school", group.equal = "loadings")
case <- case_common(fit, hs_model,
                    "cfa(model, data = HolzingerSwineford1939_missing, missing = \"ml\", group = \"school\", group.equal = \"loadings\")")
case$group_labels <- I(lavInspect(fit, "group.label"))
cases$hs_school_metric_fiml <- case
fit <- cfa(hs_model, data = hs_miss, missing = "ml", group = "school", group.equal = "loadings",
           estimator = "MLR")
case <- case_common(fit, hs_model,
                    "cfa(model, data = HolzingerSwineford1939_missing, missing = \"ml\", group = \"school\", group.equal = \"loadings\", estimator = \"MLR\")")
cases$hs_school_metric_fiml_mlr <- case

fit <- cfa(hs_model, data = hs_miss)
case <- case_common(fit, hs_model,
                    "cfa(model, data = HolzingerSwineford1939_missing)  # listwise deletion")
cases$hs_cfa_listwise <- case

# --------------------------------------------------------- (f) bootstrap ----

boot_seed <- 12345L
n_boot <- 1000L
set.seed(boot_seed)
fit_boot <- sem(pd_model, data = pd, se = "bootstrap", bootstrap = n_boot)
BOOT <- lavInspect(fit_boot, "boot")
case <- case_common(fit_boot, pd_model,
                    "set.seed(12345); sem(model, data = PoliticalDemocracy, se = \"bootstrap\", bootstrap = 1000)")
case$estimates_perc <- estimates(fit_boot, boot.ci.type = "perc")
case$estimates_bca_simple <- estimates(fit_boot, boot.ci.type = "bca.simple")
case$n_boot <- n_boot
case$seed <- boot_seed
case$n_failed <- length(attr(BOOT, "error.idx"))

# The same draws again through bootstrapLavaan with keep.idx = TRUE: same seed,
# same sequence of sample.int() calls, hence the same resamples.  The row
# indices are exported so that another implementation can refit exactly these
# resamples and must then reproduce the intervals to estimation accuracy.
set.seed(boot_seed)
std_fun <- function(f) {
  ss <- standardizedSolution(f, se = FALSE, zstat = FALSE, pvalue = FALSE, ci = FALSE,
                             remove.eq = FALSE, remove.ineq = FALSE)
  c(coef(f), ss$est.std)
}
BL <- bootstrapLavaan(fit_pd, R = n_boot, FUN = std_fun, keep.idx = TRUE)
idx <- attr(BL, "boot.idx")
idx <- idx[[1L]]  # one matrix per group: R x n row indices (1-based)
stopifnot(nrow(idx) == n_boot, ncol(idx) == nrow(pd))
n_free <- length(coef(fit_pd))
coef_draws <- BL[, seq_len(n_free), drop = FALSE]
std_draws <- BL[, -seq_len(n_free), drop = FALSE]
write.csv(idx, file.path(data_dir, "PoliticalDemocracy_boot_indices.csv"), row.names = FALSE)

ss0 <- standardizedSolution(fit_pd, se = FALSE, zstat = FALSE, pvalue = FALSE, ci = FALSE,
                            remove.eq = FALSE, remove.ineq = FALSE)
def_fun <- fit_pd@Model@def.function
def_draws <- t(apply(coef_draws, 1, def_fun))

# boot::norm.inter, as used by parameterEstimates() for percentile intervals:
# order statistics interpolated on the normal-quantile scale.
norm_inter <- function(t, alpha) {
  t <- t[is.finite(t)]
  R <- length(t)
  rk <- (R + 1) * alpha
  k <- trunc(rk)
  out <- numeric(length(alpha))
  tstar <- sort(t)
  for (i in seq_along(alpha)) {
    if (k[i] == rk[i]) out[i] <- tstar[k[i]]
    else if (k[i] == 0) out[i] <- tstar[1]
    else if (k[i] == R) out[i] <- tstar[R]
    else {
      z <- qnorm(alpha[i]); z1 <- qnorm(k[i] / (R + 1)); z2 <- qnorm((k[i] + 1) / (R + 1))
      out[i] <- tstar[k[i]] + (z - z1) / (z2 - z1) * (tstar[k[i] + 1] - tstar[k[i]])
    }
  }
  out
}
perc_ci <- function(draws) t(apply(draws, 2, norm_inter, alpha = c(0.025, 0.975)))

std_perc <- perc_ci(std_draws)
case$keep_idx <- list(
  call = "set.seed(12345); bootstrapLavaan(fit, R = 1000, FUN = function(f) c(coef(f), standardizedSolution(f)$est.std), keep.idx = TRUE)",
  indices_csv = "tests/sem/data/PoliticalDemocracy_boot_indices.csv",
  same_draws_as_se_bootstrap = isTRUE(all.equal(unname(coef_draws), unname(BOOT[, seq_len(n_free)]),
                                                tolerance = 0)),
  max_abs_diff_vs_se_bootstrap = max(abs(unname(coef_draws) - unname(BOOT[, seq_len(n_free)]))),
  coef_names = I(names(coef(fit_pd))),
  coef_draws_first50 = unname(coef_draws[1:50, ]),
  def_names = I(colnames(def_draws)),
  def_draws = lapply(seq_len(ncol(def_draws)), function(j) I(unname(def_draws[, j]))),
  std = list(lhs = I(ss0$lhs), op = I(ss0$op), rhs = I(ss0$rhs), est_std = I(ss0$est.std),
             perc_lower = I(std_perc[, 1]), perc_upper = I(std_perc[, 2]),
             boot_sd = I(apply(std_draws, 2, sd))),
  std_ind_draws = I(unname(std_draws[, which(ss0$op == ":=" & ss0$lhs == "ind")]))
)
cases$pd_boot <- case

# -------------------------------------------------------------- output ----

meta <- list(
  R = R.version.string,
  lavaan = as.character(packageVersion("lavaan")),
  semTools = as.character(packageVersion("semTools")),
  jsonlite = as.character(packageVersion("jsonlite")),
  platform = R.version$platform,
  blas = if (!is.null(extSoftVersion()["BLAS"])) unname(extSoftVersion()["BLAS"]) else "",
  generated_utc = format(Sys.time(), "%Y-%m-%d %H:%M:%S", tz = "UTC"),
  script = "tests/sem/results/lavaan_reference.R",
  datasets = list(
    HolzingerSwineford1939 = "tests/sem/data/HolzingerSwineford1939.csv",
    PoliticalDemocracy = "tests/sem/data/PoliticalDemocracy.csv",
    HolzingerSwineford1939_missing = "tests/sem/data/HolzingerSwineford1939_missing.csv",
    PoliticalDemocracy_boot_indices = "tests/sem/data/PoliticalDemocracy_boot_indices.csv"
  )
)

out <- list(meta = meta, cases = cases)
writeLines(toJSON(out, digits = NA, na = "null", auto_unbox = TRUE, pretty = TRUE,
                  dataframe = "columns", matrix = "rowmajor"),
           file.path(results_dir, "lavaan_reference.json"))
cat("wrote", file.path(results_dir, "lavaan_reference.json"), "\n")

# Reference values for the core of surveykit's SEM engine (ML with complete data):
# defaults of cfa()/sem(), std.lv, observed exogenous covariates (fixed.x),
# mean structures, equality constraints, defined parameters, multigroup
# constraints of every group.equal kind, group.partial, modification indices,
# composite reliability and AVE.
#
# Run from the repository root:
#
#     Rscript tests/sem/results/core_reference.R
#
# Reads tests/sem/data/*.csv (lavaan's datasets exported as CSV) and writes
# tests/sem/results/core_reference.json: cases -> <case> -> <quantity>, tables
# column-wise with lavaan's column names, fit measures with lavaan's names,
# full double precision, NA as null.

suppressPackageStartupMessages({
  library(lavaan)
  library(semTools)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
root <- if (length(script)) normalizePath(file.path(dirname(script), "..", "..", "..")) else getwd()
data_dir <- file.path(root, "tests", "sem", "data")
hs <- read.csv(file.path(data_dir, "HolzingerSwineford1939.csv"))
pd <- read.csv(file.path(data_dir, "PoliticalDemocracy.csv"))

columns <- function(d) {
  d <- as.data.frame(d, stringsAsFactors = FALSE)
  out <- lapply(d, function(col) I(if (is.factor(col)) as.character(col) else unclass(col)))
  names(out) <- names(d)
  out
}
named <- function(x) as.list(setNames(as.numeric(x), names(x)))

record <- function(fit, model, call, mi = FALSE) {
  pe <- parameterEstimates(fit, standardized = TRUE, remove.eq = FALSE,
                           remove.ineq = FALSE, remove.system.eq = TRUE)
  keep <- intersect(c("lhs", "op", "rhs", "group", "label", "est", "se", "z",
                      "pvalue", "ci.lower", "ci.upper", "std.lv", "std.all"), names(pe))
  fm <- fitMeasures(fit)
  r2 <- lavInspect(fit, "r2")
  out <- list(model = model, call = call,
              converged = lavInspect(fit, "converged"),
              estimates = columns(pe[, keep]),
              fit = as.list(setNames(as.numeric(fm), names(fm))),
              r2 = if (is.list(r2)) lapply(r2, named) else named(r2))
  if (mi) {
    m <- modindices(fit)
    out$modindices <- columns(m[, intersect(c("lhs", "op", "rhs", "group", "mi", "epc",
                                              "sepc.lv", "sepc.all"), names(m))])
  }
  out
}

hs_model <- "visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9"

cases <- list()
fit <- cfa(hs_model, data = hs)
cases$hs_cfa <- record(fit, hs_model, "cfa(model, data = hs)", mi = TRUE)
cases$hs_cfa$reliability <- list(omega = named(compRelSEM(fit)), ave = named(AVE(fit)))
cases$hs_cfa$implied_cov <- unname(lavInspect(fit, "cov.ov"))

fit <- cfa(hs_model, data = hs, std.lv = TRUE)
cases$hs_cfa_stdlv <- record(fit, hs_model, "cfa(model, data = hs, std.lv = TRUE)", mi = TRUE)
cases$hs_cfa_stdlv$reliability <- list(omega = named(compRelSEM(fit)), ave = named(AVE(fit)))

fit <- cfa(hs_model, data = hs, meanstructure = TRUE)
cases$hs_cfa_means <- record(fit, hs_model, "cfa(model, data = hs, meanstructure = TRUE)", mi = TRUE)

# observed exogenous covariates: fixed.x = TRUE puts their sample moments in the model
cov_model <- "visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
visual ~ sex + ageyr
textual ~ visual + ageyr"
fit <- sem(cov_model, data = hs)
cases$hs_covariates <- record(fit, cov_model, "sem(model, data = hs)", mi = TRUE)

path_model <- "x4 ~ x1 + x2
x5 ~ x4 + x3
x6 ~ x5"
fit <- sem(path_model, data = hs)
cases$hs_path <- record(fit, path_model, "sem(model, data = hs)", mi = TRUE)

pd_model <- "ind60 =~ x1 + x2 + x3
dem60 =~ y1 + a*y2 + b*y3 + c*y4
dem65 =~ y5 + a*y6 + b*y7 + c*y8
dem60 ~ p1*ind60
dem65 ~ p2*ind60 + p3*dem60
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8
ind := p1*p3
total := p2 + ind
ratio := p1^2 / exp(p3)"
fit <- sem(pd_model, data = pd)
cases$pd_sem_shared <- record(fit, pd_model, "sem(model, data = pd)", mi = TRUE)

pd_plain <- "ind60 =~ x1 + x2 + x3
dem60 =~ y1 + y2 + y3 + y4
dem65 =~ y5 + y6 + y7 + y8
dem60 ~ ind60
dem65 ~ ind60 + dem60
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8"
fit <- sem(pd_plain, data = pd)
cases$pd_sem <- record(fit, pd_plain, "sem(model, data = pd)", mi = TRUE)

eq_model <- "visual  =~ x1 + l2*x2 + l3*x3
textual =~ x4 + l5*x5 + l6*x6
speed   =~ x7 + x8 + x9
l2 == 2*l3 - 1
l5 + l6 == 2.2"
fit <- cfa(eq_model, data = hs)
cases$hs_cfa_linear_eq <- record(fit, eq_model, "cfa(model, data = hs)")

mg <- list(
  configural = list(),
  metric = list(group.equal = "loadings"),
  scalar = list(group.equal = c("loadings", "intercepts")),
  strict_partial = list(group.equal = c("loadings", "intercepts", "residuals"),
                        group.partial = c("visual=~x2", "x3~1", "x7~~x7")),
  lv = list(group.equal = c("loadings", "intercepts", "lv.variances", "lv.covariances", "means")),
  rescov = list(group.equal = c("loadings", "residual.covariances"))
)
mg_model <- paste(hs_model, "x7 ~~ x8", sep = "\n")
for (nm in names(mg)) {
  model <- if (nm == "rescov") mg_model else hs_model
  fit <- do.call("cfa", c(list(model = model, data = hs, group = "school"), mg[[nm]]))
  cases[[paste0("hs_school_", nm)]] <- record(fit, model, deparse(mg[[nm]]), mi = nm == "metric")
  cases[[paste0("hs_school_", nm)]]$group_equal <- I(as.character(mg[[nm]]$group.equal))
  cases[[paste0("hs_school_", nm)]]$group_partial <- I(as.character(mg[[nm]]$group.partial))
}
reg_model <- "visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
textual ~ visual"
fit <- sem(reg_model, data = hs, group = "school", group.equal = c("loadings", "regressions"))
cases$hs_school_regressions <- record(fit, reg_model, "group.equal = c('loadings', 'regressions')")
cases$hs_school_regressions$group_equal <- I(c("loadings", "regressions"))

vec_model <- "visual  =~ x1 + c(v2, v2)*x2 + c(1, NA)*x3
textual =~ x4 + x5 + x6"
fit <- cfa(vec_model, data = hs, group = "school")
cases$hs_school_vectors <- record(fit, vec_model, "cfa(model, data = hs, group = 'school')")

# nonlinear equality constraints (lavaan: constrained nlminb, bordered information)
nl_model <- "visual =~ x1 + l2*x2 + l3*x3
textual =~ x4 + l5*x5 + l6*x6
speed =~ x7 + x8 + x9
l2*l6 == l3*l5
ratio := l2/l3"
fit <- cfa(nl_model, data = hs)
cases$hs_cfa_nonlinear_eq <- record(fit, nl_model, "cfa(model, data = hs)")
nl_model2 <- "visual =~ x1 + l2*x2 + l3*x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9
l2 == l3^2"
fit <- cfa(nl_model2, data = hs)
cases$hs_cfa_nonlinear_eq2 <- record(fit, nl_model2, "cfa(model, data = hs)")

# inequality constraints: one active (l2 > 0.6), one inactive (l3 > 0.1)
ineq_model <- "visual =~ x1 + l2*x2 + l3*x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9
l2 > 0.6
l3 > 0.1"
fit <- cfa(ineq_model, data = hs)
cases$hs_cfa_inequality <- record(fit, ineq_model, "cfa(model, data = hs)")

# a second-order factor, a MIMIC model with an observed outcome, orthogonal-looking
# fixed covariances and a mean structure with fixed covariates
ho_model <- paste(hs_model, "g =~ visual + textual + speed", sep = "\n")
fit <- cfa(ho_model, data = hs)
cases$hs_higher_order <- record(fit, ho_model, "cfa(model, data = hs)", mi = TRUE)
fit <- cfa(ho_model, data = hs, std.lv = TRUE)
cases$hs_higher_order_stdlv <- record(fit, ho_model, "cfa(model, data = hs, std.lv = TRUE)")
mimic_model <- "visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
visual ~ ageyr + sex
x9 ~ visual + textual
visual ~~ 0*textual"
fit <- sem(mimic_model, data = hs, meanstructure = TRUE)
cases$hs_mimic_means <- record(fit, mimic_model, "sem(model, data = hs, meanstructure = TRUE)", mi = TRUE)

# lavaan's default optimiser (nlminb, rel.tol = 1e-10) stops a little early in
# some models; refitted with BFGS at reltol = 1e-14 these cases give the exact
# optimum, against which surveykit's estimates are checked at 1e-5 or better.
tight <- list(optim.method = "BFGS", control = list(reltol = 1e-14, maxit = 10000))
fit <- do.call("sem", c(list(model = pd_model, data = pd), tight))
cases$pd_sem_shared_tight <- record(fit, pd_model,
  "sem(model, data = pd, optim.method = 'BFGS', control = list(reltol = 1e-14))")
fit <- do.call("cfa", c(list(model = hs_model, data = hs, group = "school"), tight))
cases$hs_school_configural_tight <- record(fit, hs_model,
  "cfa(model, data = hs, group = 'school', optim.method = 'BFGS', control = list(reltol = 1e-14))")
cases$hs_school_configural_tight$group_equal <- I(character(0))
cases$hs_school_configural_tight$group_partial <- I(character(0))

meta <- list(R = R.version.string, lavaan = as.character(packageVersion("lavaan")),
             semTools = as.character(packageVersion("semTools")),
             jsonlite = as.character(packageVersion("jsonlite")),
             generated_utc = format(Sys.time(), "%Y-%m-%d %H:%M:%S", tz = "UTC"),
             script = "tests/sem/results/core_reference.R")
writeLines(toJSON(list(meta = meta, cases = cases), auto_unbox = TRUE, digits = NA,
                  na = "null", null = "null", pretty = FALSE),
           file.path(root, "tests", "sem", "results", "core_reference.json"))

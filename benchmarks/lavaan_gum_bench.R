# lavaan side of the GUM workloads of benchmarks/bench_sem.py, timed inside R.
#
#     Rscript benchmarks/lavaan_gum_bench.R DATA.csv MODEL.lav [boot_draws] [ncpus]
#
# DATA.csv holds the scored Ningbo apparel example (reverse items reversed,
# empty cells for missing answers); prints one JSON object with seconds per
# workload and the versions used:
# (1) sem(estimator = "MLR") on the complete rows (lavaan's listwise default),
# (2) sem(se = "bootstrap", bootstrap = boot_draws) with percentile intervals,
#     draws in ncpus processes (parallel = "multicore"),
# (3) sem(missing = "ml") on every row (FIML).
suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
model <- paste(readLines(args[2], encoding = "UTF-8"), collapse = "\n")
draws <- if (length(args) >= 3) as.integer(args[3]) else 2000L
ncpus <- if (length(args) >= 4) as.integer(args[4]) else 2L
complete <- d[complete.cases(d), ]

elapsed <- function(f) system.time(suppressWarnings(f()))[["elapsed"]]
mlr <- function() fitMeasures(sem(model, data = complete, estimator = "MLR"))
mlr()  # warm-up
t_mlr <- median(sapply(1:3, function(i) elapsed(mlr)))
boot <- function() {
  set.seed(1)
  fit <- sem(model, data = complete, se = "bootstrap", bootstrap = draws,
             parallel = if (ncpus > 1) "multicore" else "no", ncpus = ncpus)
  parameterEstimates(fit, boot.ci.type = "perc")
}
t_boot <- elapsed(boot)
fiml <- function() fitMeasures(sem(model, data = d, missing = "ml"))
t_fiml <- elapsed(fiml)

cat(toJSON(list(gum_mlr = t_mlr, gum_boot = t_boot, gum_fiml = t_fiml, draws = draws,
                ncpus = ncpus, R = R.version.string,
                lavaan = as.character(packageVersion("lavaan"))),
           auto_unbox = TRUE, digits = NA), "\n")

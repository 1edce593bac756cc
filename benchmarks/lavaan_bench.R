# lavaan side of benchmarks/bench_sem.py: the same three workloads timed inside R.
#
#     Rscript benchmarks/lavaan_bench.R [repeats] [boot_repeats]
#
# Prints one JSON object: median seconds per workload and the versions used.
# (1) cfa() of the HolzingerSwineford1939 three-factor model,
# (2) sem() of the PoliticalDemocracy model with residual covariances and the
#     defined indirect effect ind60 -> dem60 -> dem65,
# (3) the same sem() with se = "bootstrap", bootstrap = 1000 followed by
#     parameterEstimates(boot.ci.type = "perc") (the whole bootstrap analysis).
suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
repeats <- if (length(args) >= 1) as.integer(args[1]) else 50L
boot_repeats <- if (length(args) >= 2) as.integer(args[2]) else 1L

hs_model <- "visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9"
pd_model <- "ind60 =~ x1 + x2 + x3
dem60 =~ y1 + y2 + y3 + y4
dem65 =~ y5 + y6 + y7 + y8
dem60 ~ a*ind60
dem65 ~ c*ind60 + b*dem60
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8
ind   := a*b
total := c + a*b"

time_median <- function(expr_fun, n) {
  expr_fun()  # warm-up (byte compilation, method dispatch caches)
  t <- numeric(n)
  for (i in seq_len(n)) t[i] <- system.time(expr_fun())[["elapsed"]]
  median(t)
}

# system.time() has millisecond resolution: time batches of 10 fits for the
# two single fits and divide
batch <- function(f) function() for (k in 1:10) f()
hs_cfa <- time_median(batch(function() cfa(hs_model, data = HolzingerSwineford1939)), repeats) / 10
pd_sem <- time_median(batch(function() sem(pd_model, data = PoliticalDemocracy)), repeats) / 10
boot_fun <- function() {
  set.seed(12345)
  fit <- sem(pd_model, data = PoliticalDemocracy, se = "bootstrap", bootstrap = 1000L)
  parameterEstimates(fit, boot.ci.type = "perc")
}
t <- numeric(boot_repeats)
for (i in seq_len(boot_repeats)) t[i] <- system.time(suppressWarnings(boot_fun()))[["elapsed"]]
pd_boot <- median(t)

cat(toJSON(list(hs_cfa = hs_cfa, pd_sem = pd_sem, pd_boot = pd_boot,
                repeats = repeats, boot_repeats = boot_repeats,
                R = R.version.string, lavaan = as.character(packageVersion("lavaan"))),
           auto_unbox = TRUE, digits = NA), "\n")

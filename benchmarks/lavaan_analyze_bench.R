# The statistical core of `surveykit analyze` in lavaan, for benchmarks/bench_analyze.py:
# per cluster the MLR structural model plus a bootstrap of it, then the invariance ladder
# (configural, metric, scalar, strict) of the measurement model by cluster, each part timed.
# Usage: Rscript benchmarks/lavaan_analyze_bench.R DATA.csv MODEL.lav CFA.lav N_BOOT
suppressPackageStartupMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
model <- paste(readLines(args[2]), collapse = "\n")
cfa_model <- paste(readLines(args[3]), collapse = "\n")
nboot <- as.integer(args[4])
clock <- function() proc.time()[["elapsed"]]
t_fit <- 0; t_boot <- 0; t_ladder <- 0
for (g in unique(d$cluster)) {
  sub <- d[d$cluster == g, setdiff(names(d), "cluster")]
  t0 <- clock(); fit <- sem(model, data = sub, estimator = "MLR"); t_fit <- t_fit + clock() - t0
  t0 <- clock()
  boot <- suppressWarnings(sem(model, data = sub, se = "bootstrap", bootstrap = nboot))
  pe <- parameterEstimates(boot, boot.ci.type = "perc")
  t_boot <- t_boot + clock() - t0
}
t0 <- clock()
for (eq in list("none", "loadings", c("loadings", "intercepts"),
                c("loadings", "intercepts", "residuals"))) {
  fit <- if (identical(eq, "none")) cfa(cfa_model, data = d, group = "cluster", estimator = "MLR") else
    cfa(cfa_model, data = d, group = "cluster", group.equal = eq, estimator = "MLR")
  fm <- fitMeasures(fit)
}
t_ladder <- clock() - t0
cat(sprintf('{"fits": %.3f, "bootstrap": %.3f, "n_boot": %d, "ladder": %.3f, "lavaan": "%s"}\n',
            t_fit, t_boot, nboot, t_ladder, as.character(packageVersion("lavaan"))))

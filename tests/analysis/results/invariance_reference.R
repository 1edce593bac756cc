# Reference values for surveykit.analysis.invariance.score_tests: lavaan's univariate score tests
# of releasing each cross-group equality (lavTestScore) on HolzingerSwineford1939 by school.
# Run from the repository root:  Rscript tests/analysis/results/invariance_reference.R
suppressPackageStartupMessages({ library(lavaan); library(jsonlite) })
hs <- HolzingerSwineford1939
model <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
score_table <- function(fit) {
  st <- lavTestScore(fit, univariate = TRUE, cumulative = FALSE, epc = FALSE)
  pt <- parTable(fit)
  uni <- st$uni
  # each constraint reads ".pA. == .pB."; name it by the group-2 parameter
  rows <- lapply(seq_len(nrow(uni)), function(i) {
    rhs <- uni$rhs[i]
    p2 <- pt[pt$plabel == rhs, ]
    list(lhs = p2$lhs, op = p2$op, rhs = p2$rhs, group = p2$group, X2 = uni$X2[i])
  })
  rows
}
metric <- cfa(model, hs, group = "school", group.equal = "loadings")
scalar <- cfa(model, hs, group = "school", group.equal = c("loadings", "intercepts"))
out <- list(versions = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan"))),
            metric = score_table(metric), scalar = score_table(scalar),
            metric_chisq = fitMeasures(metric, "chisq"), scalar_chisq = fitMeasures(scalar, "chisq"))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/analysis/results/invariance_reference.json")

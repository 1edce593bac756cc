# Reference values for surveykit.analysis.composite and surveykit.analysis.process.
# Data: composite scores of the SIMULATED Ningbo apparel example (tests/analysis/data/).
# Run from the repository root:  Rscript tests/analysis/results/composite_reference.R
suppressPackageStartupMessages({
  library(jsonlite); library(sandwich); library(lmtest); library(systemfit)
})
d <- read.csv("tests/analysis/data/ningbo_composites_simulated.csv")
d <- d[complete.cases(d), ]
eqs <- list(
  LEARN = c("POLICY", "LEADER", "GOVERN"), INNOV = c("POLICY", "LEADER", "GOVERN"),
  GVC = c("POLICY", "LEADER", "GOVERN"), SOCAP = c("POLICY", "LEADER", "GOVERN"),
  UP_TECH = c("LEARN", "GVC"), UP_INNOV = c("INNOV", "LEARN"), UP_LINK = c("GVC", "SOCAP"),
  UP_SOCAP = c("SOCAP"))
forms <- lapply(names(eqs), function(y) as.formula(paste(y, "~", paste(eqs[[y]], collapse = " + "))))
names(forms) <- names(eqs)

rows <- function(est, se, p, lhs, rhs) data.frame(lhs = lhs, rhs = rhs, est = est, se = se, pvalue = p)

ols <- do.call(rbind, lapply(names(eqs), function(y) {
  fit <- lm(forms[[y]], d)
  ct <- coeftest(fit, vcov = vcovHC(fit, type = "HC3"))
  v <- eqs[[y]]
  rows(ct[v, 1], ct[v, 2], ct[v, 4], y, v)
}))

sys_rows <- function(fit) do.call(rbind, lapply(seq_along(eqs), function(i) {
  y <- names(eqs)[i]; v <- eqs[[y]]
  ct <- summary(fit$eq[[i]])$coefficients
  rows(ct[v, 1], ct[v, 2], 2 * pnorm(-abs(ct[v, 1] / ct[v, 2])), y, v)
}))
ctl <- systemfit.control(methodResidCov = "noDfCor")
names(forms) <- gsub("_", "", names(forms))  # systemfit refuses underscores in equation labels
sur <- systemfit(forms, method = "SUR", data = d, control = ctl)
tsls <- systemfit(forms, method = "3SLS", data = d, inst = ~ POLICY + LEADER + GOVERN, control = ctl)

# moderation of UP_TECH ~ LEARN by GOVERN with covariate GVC (PROCESS model 1, OLS SEs)
m <- d
m$xc <- m$LEARN - mean(m$LEARN); m$wc <- m$GOVERN - mean(m$GOVERN)
mod <- lm(UP_TECH ~ xc + wc + xc:wc + GVC, m)
b <- coef(mod); V <- vcov(mod); dfr <- df.residual(mod); tc <- qt(0.975, dfr)
sdw <- sd(m$GOVERN)
slopes <- lapply(c(-sdw, 0, sdw), function(w) {
  e <- b["xc"] + w * b["xc:wc"]
  s <- sqrt(V["xc", "xc"] + w^2 * V["xc:wc", "xc:wc"] + 2 * w * V["xc", "xc:wc"])
  list(w = w, effect = unname(e), se = unname(s), pvalue = unname(2 * pt(-abs(e / s), dfr)))
})
qa <- b["xc:wc"]^2 - tc^2 * V["xc:wc", "xc:wc"]
qb <- 2 * (b["xc"] * b["xc:wc"] - tc^2 * V["xc", "xc:wc"])
qc <- b["xc"]^2 - tc^2 * V["xc", "xc"]
disc <- qb^2 - 4 * qa * qc
jn <- if (disc >= 0) sort(c((-qb - sqrt(disc)) / (2 * qa), (-qb + sqrt(disc)) / (2 * qa))) + mean(m$GOVERN) else numeric(0)
red <- lm(UP_TECH ~ xc + wc + GVC, m)
names(forms) <- names(eqs)

# mediation POLICY -> LEARN -> UP_TECH (PROCESS model 4), bootstrap with many draws
a <- coef(lm(LEARN ~ POLICY, d))["POLICY"]
fy <- lm(UP_TECH ~ POLICY + LEARN, d)
set.seed(20101)
B <- 40000
n <- nrow(d)
ab <- replicate(B, {
  i <- sample.int(n, n, replace = TRUE); s <- d[i, ]
  coef(lm(LEARN ~ POLICY, s))[2] * coef(lm(UP_TECH ~ POLICY + LEARN, s))[3]
})

out <- list(
  versions = list(R = R.version.string, sandwich = as.character(packageVersion("sandwich")),
                  systemfit = as.character(packageVersion("systemfit")),
                  lmtest = as.character(packageVersion("lmtest"))),
  n = nrow(d),
  ols_hc3 = ols, sur = sys_rows(sur), three_sls = sys_rows(tsls),
  moderation = list(y = "UP_TECH", x = "LEARN", w = "GOVERN", covariates = "GVC",
                    interaction = unname(b["xc:wc"]), interaction_se = unname(sqrt(V["xc:wc", "xc:wc"])),
                    interaction_pvalue = unname(summary(mod)$coefficients["xc:wc", 4]),
                    r2_change = summary(mod)$r.squared - summary(red)$r.squared,
                    slopes = slopes, jn_raw = unname(jn)),
  mediation = list(x = "POLICY", m = "LEARN", y = "UP_TECH", a = unname(a),
                   b = unname(coef(fy)["LEARN"]), direct = unname(coef(fy)["POLICY"]),
                   indirect = unname(a * coef(fy)["LEARN"]), boot_draws = B,
                   boot_sd = sd(ab), ci_lower = unname(quantile(ab, 0.025)),
                   ci_upper = unname(quantile(ab, 0.975)))
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/analysis/results/composite_reference.json")

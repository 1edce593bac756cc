# Reference values for tests/measure, computed with psych, GPArotation, semTools and lavaan.
#
# Run from the repository root:
#     Rscript tests/measure/results/psych_reference.R
# Writes tests/measure/data/{bfi,hs,ningbo_apparel,yongkang_hardware}.csv and
# tests/measure/results/psych_reference.json.  The last two are the Likert items of
# the shipped SIMULATED examples (questionnaires/examples/<id>/truth.csv), copied so
# that regenerating the examples does not invalidate these references.
# The tests read only the CSV and JSON files; R is not needed to run them.

suppressPackageStartupMessages({
  library(psych)
  library(GPArotation)
  library(lavaan)
  library(semTools)
  library(jsonlite)
})

out_data <- "tests/measure/data"
out_json <- "tests/measure/results/psych_reference.json"
dir.create(out_data, showWarnings = FALSE, recursive = TRUE)

versions <- list(
  R = R.version.string,
  psych = as.character(packageVersion("psych")),
  GPArotation = as.character(packageVersion("GPArotation")),
  semTools = as.character(packageVersion("semTools")),
  lavaan = as.character(packageVersion("lavaan")),
  jsonlite = as.character(packageVersion("jsonlite"))
)

# ---------------------------------------------------------------- datasets
data(bfi, package = "psych")
bfi_items <- colnames(bfi)[1:25]
bfi_df <- data.frame(id = seq_len(nrow(bfi)), bfi[, c(bfi_items, "gender")])
write.csv(bfi_df, file.path(out_data, "bfi.csv"), row.names = FALSE, na = "")

hs <- lavaan::HolzingerSwineford1939
hs_items <- paste0("x", 1:9)
hs_df <- hs[, c("id", "school", hs_items)]
write.csv(hs_df, file.path(out_data, "hs.csv"), row.names = FALSE, na = "")

mat <- function(m) unname(as.matrix(unclass(m)))

# ---------------------------------------------------------------- helpers
reverse_items <- function(x, reverse, lo, hi) {
  for (v in reverse) if (v %in% colnames(x)) x[[v]] <- (lo + hi) - x[[v]]
  x
}

reliability_ref <- function(x, constructs, listwise = FALSE) {
  res <- list()
  for (name in names(constructs)) {
    d <- x[, constructs[[name]]]
    if (listwise) d <- na.omit(d)
    a <- suppressWarnings(psych::alpha(d, warnings = FALSE))
    om <- suppressMessages(suppressWarnings(
      psych::omega(d, nfactors = 1, plot = FALSE)))
    res[[name]] <- list(
      n_obs = nrow(d),
      alpha = a$total$raw_alpha,
      alpha_std = a$total$std.alpha,
      feldt_low = a$feldt$lower.ci[[1]],
      feldt_high = a$feldt$upper.ci[[1]],
      r_drop = unname(a$item.stats$r.drop),
      alpha_drop = unname(a$alpha.drop$raw_alpha),
      omega_tot = om$omega.tot
    )
  }
  res
}

fa_ref <- function(x, nf, fm, rotate) {
  f <- suppressMessages(suppressWarnings(
    psych::fa(x, nfactors = nf, fm = fm, rotate = rotate, warnings = FALSE)))
  list(
    n_factors = nf, fm = fm, rotate = rotate,
    loadings = mat(f$loadings),
    communality = unname(f$communality),
    uniquenesses = unname(f$uniquenesses),
    ss_loadings = unname(f$Vaccounted["SS loadings", ]),
    prop_var = unname(f$Vaccounted["Proportion Var", ]),
    phi = if (is.null(f$Phi)) NULL else mat(f$Phi),
    values = unname(f$values),
    e_values = unname(f$e.values),
    fit = list(objective = f$objective, chisq = f$STATISTIC, df = f$dof, pvalue = f$PVAL,
               tli = f$TLI, rmsea = unname(f$RMSEA[1:3]), bic = f$BIC,
               null_chisq = f$null.chisq, null_df = f$null.dof, rms = f$rms)
  )
}

efa_set <- function(x, nf, tag) {
  res <- list()
  for (fm in c("minres", "ml")) {
    for (rot in c("none", "varimax", "promax", "oblimin")) {
      res[[paste(fm, rot, tag, sep = "_")]] <- fa_ref(x, nf, fm, rot)
    }
  }
  res
}

kmo_ref <- function(x) {
  k <- psych::KMO(x)
  list(msa = k$MSA, msai = unname(k$MSAi))
}

bartlett_ref <- function(x) {
  r <- cor(x, use = "pairwise")
  b <- psych::cortest.bartlett(r, n = nrow(x))
  list(n = nrow(x), chisq = b$chisq, df = b$df, p_value = b$p.value)
}

htmt_ref <- function(x, constructs) {
  model <- paste(sapply(names(constructs), function(n)
    paste(n, "=~", paste(constructs[[n]], collapse = " + "))), collapse = "\n")
  items <- unlist(constructs)
  r_pair <- cor(x[, items], use = "pairwise")
  list(
    constructs = names(constructs),
    listwise_arith = mat(semTools::htmt(model, x, htmt2 = FALSE)),
    listwise_geo = mat(semTools::htmt(model, x, htmt2 = TRUE)),
    pairwise_arith = mat(semTools::htmt(model, sample.cov = r_pair, htmt2 = FALSE)),
    pairwise_geo = mat(semTools::htmt(model, sample.cov = r_pair, htmt2 = TRUE))
  )
}

composite_ref <- function(x, constructs) {
  comp <- sapply(names(constructs), function(n) {
    d <- x[, constructs[[n]], drop = FALSE]
    k <- ncol(d)
    answered <- rowSums(!is.na(d))
    s <- rowMeans(d, na.rm = TRUE)
    s[answered < ceiling(k / 2)] <- NA
    s
  })
  ct <- psych::corr.test(comp, use = "pairwise", adjust = "none")
  list(
    constructs = names(constructs),
    scores = mat(comp),
    mean = unname(colMeans(comp, na.rm = TRUE)),
    sd = unname(apply(comp, 2, sd, na.rm = TRUE)),
    n = unname(colSums(!is.na(comp))),
    r = mat(ct$r),
    p = mat(ct$p)
  )
}

describe_ref <- function(x, group = NULL) {
  d <- psych::describe(x)
  out <- list(n = d$n, mean = d$mean, sd = d$sd, skew = d$skew, kurtosis = d$kurtosis)
  if (!is.null(group)) {
    by <- psych::describeBy(x, group = group, mat = FALSE)
    out$by_group <- lapply(by, function(g) list(n = g$n, mean = g$mean, sd = g$sd,
                                                  skew = g$skew, kurtosis = g$kurtosis))
    names(out$by_group) <- names(by)
  }
  out
}

harman_ref <- function(x) {
  r <- cor(x, use = "pairwise")
  f1 <- suppressWarnings(psych::fa(r, nfactors = 1, fm = "minres", rotate = "none",
                                   n.obs = nrow(x), warnings = FALSE))
  list(pc_share = eigen(r)$values[1] / ncol(x),
       fa_share = unname(f1$Vaccounted["Proportion Var", 1]))
}

parallel_ref <- function(x, seed, n_iter) {
  set.seed(seed)
  p <- suppressMessages(suppressWarnings(
    psych::fa.parallel(x, fm = "minres", fa = "both", n.iter = n_iter, plot = FALSE)))
  nv <- ncol(x)
  v <- p$values
  # columns of p$values: resampled PC, resampled FA, simulated PC, simulated FA
  list(
    n_iter = n_iter,
    pc_values = unname(p$pc.values), fa_values = unname(p$fa.values),
    sim_pc_mean = unname(colMeans(v[, (2 * nv + 1):(3 * nv)])),
    sim_fa_mean = unname(colMeans(v[, (3 * nv + 1):(4 * nv)])),
    sim_pc_sd = unname(apply(v[, (2 * nv + 1):(3 * nv)], 2, sd)),
    sim_fa_sd = unname(apply(v[, (3 * nv + 1):(4 * nv)], 2, sd)),
    sim_pc_q95 = unname(apply(v[, (2 * nv + 1):(3 * nv)], 2, quantile, 0.95)),
    sim_fa_q95 = unname(apply(v[, (3 * nv + 1):(4 * nv)], 2, quantile, 0.95)),
    nfact = p$nfact, ncomp = p$ncomp
  )
}

# ---------------------------------------------------------------- bfi
bfi_constructs <- list(
  A = paste0("A", 1:5), C = paste0("C", 1:5), E = paste0("E", 1:5),
  N = paste0("N", 1:5), O = paste0("O", 1:5)
)
bfi_reverse <- c("A1", "C4", "C5", "E1", "E2", "O2", "O5")
bx <- bfi[, bfi_items]
bx_rev <- reverse_items(bx, bfi_reverse, 1, 6)
bx_complete <- na.omit(bx)

bfi_ref <- list(
  items = bfi_items, constructs = bfi_constructs, reverse = bfi_reverse, scale = c(1, 6),
  n_rows = nrow(bx), n_complete = nrow(bx_complete),
  describe = describe_ref(bx, group = bfi$gender),
  reliability_pairwise = reliability_ref(bx_rev, bfi_constructs),
  reliability_listwise = reliability_ref(bx_rev, bfi_constructs, listwise = TRUE),
  kmo_pairwise = kmo_ref(bx),
  kmo_listwise = kmo_ref(bx_complete),
  bartlett_pairwise = bartlett_ref(bx),
  bartlett_listwise = bartlett_ref(bx_complete),
  efa = c(efa_set(bx, 5, "pairwise"), efa_set(bx_complete, 5, "listwise")),
  htmt = htmt_ref(bx_rev, bfi_constructs),
  composites = composite_ref(bx_rev, bfi_constructs),
  harman = harman_ref(bx),
  parallel = parallel_ref(bx, 20261121, 100)
)

# ---------------------------------------------------------------- Holzinger-Swineford
hs_constructs <- list(visual = c("x1", "x2", "x3"), textual = c("x4", "x5", "x6"),
                      speed = c("x7", "x8", "x9"))
hx <- hs[, hs_items]
cfa_fit <- lavaan::cfa(
  "visual =~ x1 + x2 + x3\n textual =~ x4 + x5 + x6\n speed =~ x7 + x8 + x9", data = hs)
ave <- semTools::AVE(cfa_fit)
lv_cor <- lavaan::lavInspect(cfa_fit, "cor.lv")
fl <- lv_cor
diag(fl) <- sqrt(ave[colnames(lv_cor)])

single_fit <- lavaan::cfa("g =~ x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9", data = hs)
fit_keys <- c("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "aic", "bic")
lr <- lavaan::lavTestLRT(single_fit, cfa_fit)

hs_ref <- list(
  items = hs_items, constructs = hs_constructs, n_rows = nrow(hx),
  describe = describe_ref(hx, group = hs$school),
  reliability_pairwise = reliability_ref(hx, hs_constructs),
  kmo_pairwise = kmo_ref(hx),
  bartlett_pairwise = bartlett_ref(hx),
  efa = efa_set(hx, 3, "pairwise"),
  htmt = htmt_ref(hx, hs_constructs),
  composites = composite_ref(hx, hs_constructs),
  harman = harman_ref(hx),
  parallel = parallel_ref(hx, 20261121, 200),
  fornell_larcker = list(constructs = colnames(lv_cor), ave = unname(ave[colnames(lv_cor)]),
                         latent_cor = mat(lv_cor), table = mat(fl)),
  single_factor_cfa = list(
    fit_keys = fit_keys,
    measurement = unname(lavaan::fitMeasures(cfa_fit, fit_keys)),
    single = unname(lavaan::fitMeasures(single_fit, fit_keys)),
    lrt_chisq = lr[["Chisq diff"]][2], lrt_df = lr[["Df diff"]][2],
    lrt_p = lr[["Pr(>Chisq)"]][2])
)

# ---------------------------------------------------------------- shipped simulated examples
# Likert items are named <construct id><number>; the reverse-keyed items are those
# marked `reverse: true` in questionnaires/<id>.yaml (the tests check this list).
example_reverse <- c("LEARN4", "GVC4", "POLICY4", "GOVERN4", "UP_INNOV4", "UP_SOCAP4")
example_ref <- function(id) {
  truth <- read.csv(file.path("questionnaires/examples", id, "truth.csv"), check.names = FALSE)
  items <- grep("^[A-Z_]+[0-9]+$", colnames(truth), value = TRUE)
  x <- truth[, items]
  write.csv(data.frame(firm_id = truth$firm_id, x), file.path(out_data, paste0(id, ".csv")),
            row.names = FALSE, na = "")
  construct_of <- sub("[0-9]+$", "", items)
  constructs <- split(items, factor(construct_of, levels = unique(construct_of)))
  xr <- reverse_items(x, example_reverse, 1, 5)
  nf <- length(constructs)
  efa <- list()
  for (cfg in list(c("minres", "oblimin"), c("ml", "promax"), c("minres", "varimax"))) {
    efa[[paste(cfg[1], cfg[2], "pairwise", sep = "_")]] <- fa_ref(xr, nf, cfg[1], cfg[2])
  }
  list(
    items = items, constructs = constructs, reverse = example_reverse, scale = c(1, 5),
    n_rows = nrow(x), n_complete = sum(complete.cases(x)),
    reliability_pairwise = reliability_ref(xr, constructs),
    reliability_listwise = reliability_ref(xr, constructs, listwise = TRUE),
    kmo_pairwise = kmo_ref(xr),
    bartlett_pairwise = bartlett_ref(xr),
    efa = efa,
    htmt = htmt_ref(xr, constructs),
    composites = composite_ref(xr, constructs)
  )
}

result <- list(versions = versions, bfi = bfi_ref, hs = hs_ref,
               ningbo_apparel = example_ref("ningbo_apparel"),
               yongkang_hardware = example_ref("yongkang_hardware"))
writeLines(toJSON(result, digits = NA, auto_unbox = TRUE, null = "null", na = "null",
                  pretty = FALSE), out_json)
cat("wrote", out_json, "\n")

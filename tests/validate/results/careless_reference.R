# Reference values of the careless-responding indices of surveykit.validate.checks,
# computed with base R on tests/validate/results/likert_sample.csv (302 rows x 44 Likert items:
# 300 simulated firms of the Ningbo questionnaire, a straight-liner, a random responder).
#   Rscript tests/validate/results/careless_reference.R
# The definitions follow careless (Yentes & Wilhelm): longstring = longest run of identical
# consecutive answers (NA breaks a run); evenodd = Spearman-Brown corrected within-person
# correlation of odd- and even-item means across constructs (reverse items reversed first);
# psychometric antonyms = within-person correlation over (forward, reverse) pairs, each reverse
# item paired with the forward item of its construct of most negative sample correlation.
library(jsonlite)
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
x <- read.csv(file.path(here, "likert_sample.csv"))
meta <- fromJSON(file.path(here, "likert_sample_meta.json"))
x <- as.matrix(x[, meta$items])

longstring <- function(v) {
  best <- 0; cur <- 0; prev <- NA
  for (a in v) {
    if (is.na(a)) { cur <- 0 } else if (!is.na(prev) && a == prev) { cur <- cur + 1 } else { cur <- 1 }
    best <- max(best, cur); prev <- a
  }
  best
}
ls <- apply(x, 1, longstring)

cc <- x[complete.cases(x), ]
d2 <- rep(NA_real_, nrow(x))
d2[complete.cases(x)] <- mahalanobis(cc, colMeans(cc), cov(cc))
cut <- qchisq(1 - 0.001, ncol(x))

xs <- x
for (it in meta$reverse) xs[, it] <- meta$min + meta$max - xs[, it]
odd <- sapply(meta$constructs, function(items) rowMeans(xs[, items[seq(1, length(items), 2)], drop = FALSE], na.rm = TRUE))
even <- sapply(meta$constructs, function(items) rowMeans(xs[, items[seq(2, length(items), 2)], drop = FALSE], na.rm = TRUE))
odd[is.nan(odd)] <- NA; even[is.nan(even)] <- NA
eo <- sapply(seq_len(nrow(x)), function(i) {
  ok <- !is.na(odd[i, ]) & !is.na(even[i, ])
  if (sum(ok) < 5) return(NA_real_)
  r <- suppressWarnings(cor(odd[i, ok], even[i, ok]))
  2 * r / (1 + r)
})

pairs <- list()
for (items in meta$constructs) {
  fwd <- setdiff(items, meta$reverse)
  for (r in intersect(items, meta$reverse)) {
    cs <- sapply(fwd, function(f) cor(x[, f], x[, r], use = "pairwise.complete.obs"))
    pairs[[length(pairs) + 1]] <- c(fwd[which.min(cs)], r)
  }
}
pa <- sapply(pairs, `[`, 1); pb <- sapply(pairs, `[`, 2)
ant <- sapply(seq_len(nrow(x)), function(i) {
  a <- x[i, pa]; b <- x[i, pb]; ok <- !is.na(a) & !is.na(b)
  if (sum(ok) < 5) return(NA_real_)
  suppressWarnings(cor(a[ok], b[ok]))
})

out <- list(
  r_version = R.version.string,
  packages = list(jsonlite = as.character(packageVersion("jsonlite"))),
  n = nrow(x), p = ncol(x),
  longstring = ls, mahalanobis = d2, chisq_cut = cut,
  evenodd = eo, antonym_pairs = pairs, antonym = ant
)
writeLines(toJSON(out, digits = NA, na = "null", auto_unbox = TRUE, pretty = TRUE),
           file.path(here, "careless_reference.json"))

# Reference values for decision curves and IPCW NRI / IDI (tests/stats/test_r_reference_decision.py).
# Run from the repository root:  Rscript tests/reference/decision_reclassification.R
# Needs only R's `survival` package. Writes, next to this script:
#   data_lung_risks.csv                 lung (survival package), complete cases of age, sex,
#                                       ph.ecog: time (days), event (1 = death), and the
#                                       predicted risk of death by 365 days of two Cox models
#   ref_decision_reclassification.csv   net benefit and NRI / IDI computed here, independently
#                                       of the Python code (survfit Kaplan-Meier throughout)
suppressMessages(library(survival))
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
horizon <- 365

d <- survival::lung[complete.cases(survival::lung[, c("time", "status", "age", "sex", "ph.ecog")]), ]
d <- data.frame(time = d$time, event = as.integer(d$status == 2), age = d$age, sex = d$sex,
                ph_ecog = d$ph.ecog)
risk_at <- function(fit) {
  s <- summary(survfit(fit, newdata = d), times = horizon)$surv
  as.numeric(1 - s)
}
old <- coxph(Surv(time, event) ~ age + sex, data = d, ties = "efron")
new <- coxph(Surv(time, event) ~ age + sex + ph_ecog, data = d, ties = "efron")
d$risk_old <- risk_at(old)
d$risk_new <- risk_at(new)
write.csv(d[, c("time", "event", "risk_old", "risk_new")],
          file.path(here, "data_lung_risks.csv"), row.names = FALSE)
# the references below use the values as written (15 significant digits)
d <- read.csv(file.path(here, "data_lung_risks.csv"))

# ---- decision curves: KM of the treated (risk >= threshold) at the horizon -----------------
km_event_rate <- function(sub) {
  if (nrow(sub) == 0 || max(sub$time) < horizon) return(NA_real_)
  if (!any(sub$event == 1)) return(0)
  1 - summary(survfit(Surv(time, event) ~ 1, data = sub), times = horizon, extend = TRUE)$surv
}
rows <- list()
for (p in seq(0, 0.9, by = 0.05)) {
  odds <- p / (1 - p)
  for (m in c("risk_old", "risk_new", "all")) {
    treated <- if (m == "all") d else d[d[[m]] >= p, ]
    frac <- nrow(treated) / nrow(d)
    nb <- if (nrow(treated) == 0) 0 else {
      rate <- km_event_rate(treated)
      rate * frac - (1 - rate) * frac * odds
    }
    rows[[length(rows) + 1]] <- data.frame(kind = "net_benefit", name = m, threshold = p,
                                           value = nb)
  }
}

# ---- IPCW NRI / IDI -------------------------------------------------------------------------
# censoring Kaplan-Meier with deaths before censorings at tied times: deaths moved half a day
# earlier (lung times are whole days; a tiny shift would be undone by survfit's timefix)
stopifnot(all(d$time == round(d$time)))
g_fit <- survfit(Surv(time - 0.5 * event, 1 - event) ~ 1, data = d)
G <- function(t) summary(g_fit, times = t, extend = TRUE)$surv
case <- d$event == 1 & d$time <= horizon
ctrl <- d$time > horizon
w <- numeric(nrow(d))
w[case] <- 1 / sapply(d$time[case] - 0.25, G)   # G(T_i-)
w[ctrl] <- 1 / G(horizon)
pw <- function(x, who) sum(w[who] * x[who]) / sum(w[who])
nri <- function(up, down) {
  ev <- pw(up, case) - pw(down, case)
  ne <- pw(down, ctrl) - pw(up, ctrl)
  c(ev + ne, ev, ne)
}
cont <- nri(d$risk_new > d$risk_old, d$risk_new < d$risk_old)
cuts <- c(0.4, 0.6)
c_old <- findInterval(d$risk_old, cuts)
c_new <- findInterval(d$risk_new, cuts)
cat_nri <- nri(c_new > c_old, c_new < c_old)
slope <- function(r) pw(r, case) - pw(r, ctrl)
measures <- c(nri = cont[1], nri_events = cont[2], nri_nonevents = cont[3],
              slope_new = slope(d$risk_new), slope_old = slope(d$risk_old),
              idi = slope(d$risk_new) - slope(d$risk_old),
              nri_categorical = cat_nri[1], nri_categorical_events = cat_nri[2],
              nri_categorical_nonevents = cat_nri[3],
              km_event_rate = km_event_rate(d), weight_sum = sum(w))
for (m in names(measures)) {
  rows[[length(rows) + 1]] <- data.frame(kind = "reclassification", name = m, threshold = NA,
                                         value = measures[[m]])
}
out <- do.call(rbind, rows)
write.csv(out, file.path(here, "ref_decision_reclassification.csv"), row.names = FALSE)
cat(R.version.string, "survival", as.character(packageVersion("survival")), "\n")
print(out[out$kind == "reclassification", ], digits = 10)

# Reference values from R for the Python tests in this folder (tests/reference/test_*.py).
#
# Re-run (needs R >= 4.2 with survival, MASS, rms, psych; Debian/Ubuntu:
#   apt-get install r-base-core r-cran-survival r-cran-mass r-cran-rms r-cran-psych):
#     cd tests/reference && Rscript make_reference.R
# It rewrites, in this folder:
#   data_lung.csv, data_veteran.csv, data_pbc.csv   public datasets shipped with R's survival
#                                                   package (exported unchanged, complete cases
#                                                   of the columns used)
#   calibration_pbc.csv                             predicted survival of a Cox model fitted on
#                                                   the odd pbc rows, for the even rows
#   data_lung_risks.csv                             lung with the predicted risk of death by 365
#                                                   days of two Cox models (decision curves,
#                                                   NRI / IDI)
#   ref_*.csv / ref_*.json                          the reference outputs
#   r_session.txt                                   R and package versions that produced them
# The Python tests never call R: they read these committed files. Every number here comes
# from a documented R function; nothing is computed by the project's own code.

suppressPackageStartupMessages({
  library(survival)
  library(MASS)
  library(rms)
  library(psych)
})
options(digits = 15)

write_csv <- function(x, file) write.csv(x, file, row.names = FALSE, quote = TRUE)
num <- function(x) format(x, digits = 17)  # full precision in CSV
full <- function(df) {
  for (j in seq_along(df)) if (is.double(df[[j]])) df[[j]] <- signif(df[[j]], 15)
  df
}

# --- datasets ---------------------------------------------------------------------------------
lung_d <- na.omit(survival::lung[, c("time", "status", "age", "sex", "ph.ecog", "ph.karno",
                                     "wt.loss")])
lung_d$event <- as.integer(lung_d$status == 2)
lung_d$status <- NULL
write_csv(lung_d, "data_lung.csv")

vet <- survival::veteran
vet$celltype <- as.character(vet$celltype)
write_csv(vet, "data_veteran.csv")
vet$celltype <- factor(vet$celltype, levels = c("squamous", "smallcell", "adeno", "large"))

pbc_d <- survival::pbc[1:312, c("id", "time", "status", "trt", "age", "sex", "ascites",
                               "hepato", "spiders", "edema", "bili", "albumin", "protime",
                               "stage")]
pbc_d <- na.omit(pbc_d)
pbc_d$event <- as.integer(pbc_d$status == 2)  # death; transplant (1) counted as censored
pbc_d$status <- NULL
pbc_d$sex <- as.character(pbc_d$sex)
write_csv(pbc_d, "data_pbc.csv")
pbc_f <- pbc_d
pbc_f$edema <- factor(pbc_f$edema)
pbc_f$stage <- factor(pbc_f$stage)
pbc_f$sex <- factor(pbc_f$sex, levels = c("m", "f"))

# --- coxph (Efron ties) -----------------------------------------------------------------------
cox_rows <- list()
add_cox <- function(name, fit) {
  s <- summary(fit)$coefficients
  data.frame(model = name, covariate = rownames(s), coef = s[, "coef"],
             se = s[, "se(coef)"], hr = s[, "exp(coef)"],
             loglik = fit$loglik[2], loglik_null = fit$loglik[1],
             n = fit$n, n_events = fit$nevent)
}
fit_lung <- coxph(Surv(time, event) ~ age + sex + ph.ecog, data = lung_d, ties = "efron")
fit_lung_age <- coxph(Surv(time, event) ~ age, data = lung_d, ties = "efron")
fit_vet <- coxph(Surv(time, status) ~ trt + celltype + karno + age, data = vet, ties = "efron")
cox_ref <- rbind(add_cox("lung_age_sex_ecog", fit_lung), add_cox("lung_age", fit_lung_age),
                 add_cox("veteran_trt_celltype_karno_age", fit_vet))
write_csv(full(cox_ref), "ref_coxph.csv")

# --- MASS::stepAIC with factor terms ----------------------------------------------------------
step_path <- function(name, data_name, direction, start, scope = NULL) {
  res <- if (is.null(scope)) {
    stepAIC(start, direction = direction, trace = 0)
  } else {
    stepAIC(start, direction = direction, scope = scope, trace = 0)
  }
  a <- res$anova
  list(selected = sort(attr(terms(res), "term.labels")), aic = extractAIC(res)[2],
       loglik = res$loglik[length(res$loglik)],
       path = data.frame(step = as.character(a$Step), aic = a$AIC),
       dataset = data_name, direction = direction, name = name)
}
vet_full <- coxph(Surv(time, status) ~ trt + celltype + karno + diagtime + age + prior,
                  data = vet, ties = "efron")
vet_null <- coxph(Surv(time, status) ~ 1, data = vet, ties = "efron")
pbc_full <- coxph(Surv(time, event) ~ trt + age + sex + ascites + hepato + spiders + edema +
                    log(bili) + albumin + log(protime) + stage, data = pbc_f, ties = "efron")
pbc_null <- coxph(Surv(time, event) ~ 1, data = pbc_f, ties = "efron")
steps <- list(
  step_path("veteran_both", "veteran", "both", vet_full),
  step_path("veteran_backward", "veteran", "backward", vet_full),
  step_path("veteran_forward", "veteran", "forward", vet_null,
            scope = list(upper = formula(vet_full), lower = ~1)),
  step_path("pbc_both", "pbc", "both", pbc_full),
  step_path("pbc_forward", "pbc", "forward", pbc_null,
            scope = list(upper = formula(pbc_full), lower = ~1))
)
jsonish <- function(x) {
  # minimal JSON writer (no jsonlite dependency)
  if (is.list(x) && !is.data.frame(x)) {
    keys <- names(x)
    body <- vapply(seq_along(x), function(i) {
      v <- jsonish(x[[i]])
      if (is.null(keys)) v else sprintf('"%s": %s', keys[i], v)
    }, "")
    if (is.null(keys)) sprintf("[%s]", paste(body, collapse = ", "))
    else sprintf("{%s}", paste(body, collapse = ", "))
  } else if (is.data.frame(x)) {
    jsonish(lapply(seq_len(nrow(x)), function(i) as.list(x[i, , drop = FALSE])))
  } else if (is.character(x)) {
    if (length(x) == 1) sprintf('"%s"', x) else jsonish(as.list(x))
  } else {
    if (length(x) == 1) num(x) else jsonish(as.list(x))
  }
}
writeLines(jsonish(steps), "ref_stepaic.json")

# --- concordance(fit1, fit2) ------------------------------------------------------------------
cc <- concordance(fit_lung, fit_lung_age)
contrast <- c(1, -1)
conc_ref <- list(
  c = unname(coef(cc)), var = unname(cc$var),
  delta = sum(contrast * coef(cc)),
  delta_var = drop(t(contrast) %*% cc$var %*% contrast),
  lp1 = unname(predict(fit_lung, type = "lp")), lp2 = unname(predict(fit_lung_age, type = "lp")),
  count1 = unname(cc$count[1, ])
)
names(conc_ref$count1) <- NULL
writeLines(jsonish(conc_ref), "ref_concordance.json")

# --- cox.zph (transform = "km"), survival >= 3 score test -------------------------------------
zph_rows <- list()
for (nm in c("lung_age_sex_ecog", "veteran_trt_celltype_karno_age")) {
  f <- if (nm == "lung_age_sex_ecog") fit_lung else fit_vet
  for (tr in c("km", "identity")) {
    z <- cox.zph(f, transform = tr, terms = FALSE)
    zph_rows[[length(zph_rows) + 1]] <- data.frame(
      model = nm, transform = tr, covariate = rownames(z$table), chisq = z$table[, "chisq"],
      df = z$table[, "df"], p = z$table[, "p"])
  }
}
write_csv(full(do.call(rbind, zph_rows)), "ref_cox_zph.csv")

# --- Kaplan-Meier median (CI, log-log) and survdiff --------------------------------------------
km <- survfit(Surv(time, event) ~ sex, data = lung_d, conf.type = "log-log")
tab <- summary(km)$table
km_ref <- data.frame(group = c(1, 2), n = tab[, "records"], events = tab[, "events"],
                     median = tab[, "median"], lower = tab[, "0.95LCL"],
                     upper = tab[, "0.95UCL"])
write_csv(full(km_ref), "ref_km_median.csv")
sk <- summary(km, times = c(90, 180, 365, 540))
km_at <- data.frame(group = rep(c(1, 2), each = 4)[seq_along(sk$time)], time = sk$time,
                    surv = sk$surv, std_err = sk$std.err, lower = sk$lower, upper = sk$upper)
km_at$group <- as.integer(sub("sex=", "", as.character(sk$strata)))
write_csv(full(km_at), "ref_km_at.csv")
sd2 <- survdiff(Surv(time, event) ~ sex, data = lung_d)
sd4 <- survdiff(Surv(time, status) ~ celltype, data = vet)
sdiff <- data.frame(test = c("lung_sex", "veteran_celltype"), chisq = c(sd2$chisq, sd4$chisq),
                    df = c(1, 3),
                    p = c(pchisq(sd2$chisq, 1, lower.tail = FALSE),
                          pchisq(sd4$chisq, 3, lower.tail = FALSE)))
write_csv(full(sdiff), "ref_survdiff.csv")

# --- rms::validate (bootstrap optimism of Somers' Dxy = 2 (C - 1/2)) --------------------------
dd <- datadist(lung_d); options(datadist = "dd")
cph_lung <- cph(Surv(time, event) ~ age + sex + ph.ecog, data = lung_d, x = TRUE, y = TRUE,
                surv = TRUE)
val_rows <- list()
for (seed in 1:8) {
  set.seed(seed)
  v <- validate(cph_lung, B = 200, method = "boot")
  val_rows[[seed]] <- data.frame(seed = seed, B = 200,
                                 dxy_apparent = v["Dxy", "index.orig"],
                                 dxy_optimism = v["Dxy", "optimism"],
                                 dxy_corrected = v["Dxy", "index.corrected"])
}
write_csv(full(do.call(rbind, val_rows)), "ref_validate.csv")
# deterministic check: validate() draws sample(n, n, replace = TRUE) once per resample, so the
# same seed replays its resamples; export them (1-based row numbers) with validate's result
set.seed(11)
idx <- replicate(20, sample(nrow(lung_d), nrow(lung_d), replace = TRUE))
set.seed(11)
v <- validate(cph_lung, B = 20, method = "boot")
write_csv(as.data.frame(idx), "ref_validate_resamples.csv")
write_csv(full(data.frame(B = 20, dxy_apparent = v["Dxy", "index.orig"],
                          dxy_training = v["Dxy", "training"], dxy_test = v["Dxy", "test"],
                          dxy_optimism = v["Dxy", "optimism"])), "ref_validate_replay.csv")

# --- calibration at a horizon (Austin, Harrell & van Klaveren 2020) ---------------------------
dev <- pbc_f[seq(1, nrow(pbc_f), 2), ]
val <- pbc_f[seq(2, nrow(pbc_f), 2), ]
fit_dev <- coxph(Surv(time, event) ~ age + edema + log(bili) + albumin + log(protime),
                 data = dev, ties = "efron")
horizons <- c(1825, 3000)
pred <- sapply(horizons, function(h) summary(survfit(fit_dev, newdata = val), times = h)$surv)
pred <- matrix(pred, nrow = nrow(val))
calib_data <- data.frame(id = val$id, time = val$time, event = val$event,
                         surv_1825 = pred[, 1], surv_3000 = pred[, 2])
write_csv(full(calib_data), "calibration_pbc.csv")

calib_ref <- function(d, h, label) {
  s <- d[[paste0("surv_", h)]]
  cll <- log(-log(s))
  # calibration slope: Cox model of the outcome, follow-up censored at the horizon
  th <- pmin(d$time, h); eh <- as.integer(d$event == 1 & d$time <= h)
  sl <- coxph(Surv(th, eh) ~ cll, ties = "efron")
  # calibration-in-the-large: observed (Kaplan-Meier) vs mean predicted risk at h
  km <- summary(survfit(Surv(time, event) ~ 1, data = d), times = h)
  # smooth calibration curve: Cox model on rcs(cll, 3), Breslow baseline (ctype = 1)
  knots <- rcspline.eval(cll, nk = 3, knots.only = TRUE)
  basis <- rcspline.eval(cll, knots = knots, inclx = TRUE)
  cal <- coxph(Surv(d$time, d$event) ~ basis, ties = "efron")
  nd <- data.frame(basis = I(basis))
  obs <- 1 - summary(survfit(cal, newdata = nd, ctype = 1), times = h)$surv[1, ]
  # rms way (Austin et al. appendix): cph + survest; its baseline is the Efron-type one
  d2 <- data.frame(time = d$time, event = d$event, cll = cll)
  assign("dd2", datadist(d2), envir = globalenv()); options(datadist = "dd2")
  cph_cal <- cph(Surv(time, event) ~ rcs(cll, 3), data = d2, x = TRUE, y = TRUE, surv = TRUE)
  obs_rms <- 1 - survest(cph_cal, newdata = d2, times = h)$surv
  diff <- abs(obs - (1 - s))
  diff_rms <- abs(obs_rms - (1 - s))
  list(label = label, horizon = h, n = nrow(d), knots = unname(knots),
       slope = unname(coef(sl)), slope_se = unname(sqrt(diag(vcov(sl)))),
       km_surv = km$surv, km_std_err = km$std.err,
       mean_predicted_risk = mean(1 - s),
       ici = mean(diff), e50 = unname(median(diff)), e90 = unname(quantile(diff, 0.9)),
       emax = max(diff),
       ici_rms = mean(diff_rms), e50_rms = unname(median(diff_rms)),
       e90_rms = unname(quantile(diff_rms, 0.9)),
       spline_coef = unname(coef(cal)),
       observed_risk = unname(obs))
}
small <- calib_data[1:80, ]
cal_out <- list(calib_ref(calib_data, 1825, "pbc_even_rows"),
                calib_ref(calib_data, 3000, "pbc_even_rows"),
                calib_ref(small, 1825, "pbc_even_rows_first80"))
writeLines(jsonish(cal_out), "ref_calibration.json")

# --- ICC(2,1) with psych::ICC -----------------------------------------------------------------
sf <- matrix(c(9, 2, 5, 8, 6, 1, 3, 2, 8, 4, 6, 8, 7, 1, 2, 6, 10, 5, 6, 9, 6, 2, 4, 7),
             ncol = 4, byrow = TRUE)
ic <- psych::ICC(sf, lmer = FALSE)$results
ic2 <- ic[ic$type == "ICC2", ]
write_csv(full(data.frame(icc = ic2$ICC, f = ic2$F, df1 = ic2$df1, df2 = ic2$df2, p = ic2$p,
                          lower = ic2$`lower bound`, upper = ic2$`upper bound`)),
          "ref_icc_psych.csv")

writeLines(c(R.version.string,
             sprintf("survival %s", packageVersion("survival")),
             sprintf("MASS %s", packageVersion("MASS")),
             sprintf("rms %s", packageVersion("rms")),
             sprintf("Hmisc %s", packageVersion("Hmisc")),
             sprintf("psych %s", packageVersion("psych"))), "r_session.txt")

# --- Table 1 tests: Fisher's exact (R x C) and Wilcoxon-Mann-Whitney ---------------------------
fisher_3x2 <- fisher.test(matrix(c(5, 1, 2, 6, 3, 3), ncol = 2, byrow = TRUE))$p.value
fisher_2x2 <- fisher.test(matrix(c(3, 1, 3, 3), ncol = 2, byrow = TRUE))$p.value
fisher_4x2 <- fisher.test(matrix(c(12, 5, 7, 9, 3, 8, 10, 10), ncol = 2, byrow = TRUE))$p.value
fisher_2x3 <- fisher.test(matrix(c(8, 2, 3, 1, 5, 4), nrow = 2, byrow = TRUE))$p.value
afp <- c(10, 500, 20, 800, 30, 40, 900, 10, 1000, 20)
w <- suppressWarnings(wilcox.test(afp[1:6], afp[7:10], exact = FALSE, correct = TRUE))
write_csv(full(data.frame(test = c("fisher_3x2", "fisher_4x2", "fisher_2x3", "fisher_2x2_bclc",
                                   "wilcoxon_afp_ties"),
                          p = c(fisher_3x2, fisher_4x2, fisher_2x3, fisher_2x2, w$p.value))),
          "ref_table1_tests.csv")

# --- decision curves and IPCW NRI / IDI (test_r_decision.py) ---------------------------------
# lung complete cases of age, sex, ph.ecog with the predicted risk of death by 365 days of two
# Cox models (data_lung_risks.csv); net benefit and NRI / IDI computed independently of the
# Python code, with survfit Kaplan-Meier throughout (ref_decision_reclassification.csv).
local({
  horizon <- 365
  d <- survival::lung
  d <- d[complete.cases(d[, c("time", "status", "age", "sex", "ph.ecog")]), ]
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
  write.csv(d[, c("time", "event", "risk_old", "risk_new")], "data_lung_risks.csv",
            row.names = FALSE)
  # the references below use the values as written (15 significant digits)
  d <- read.csv("data_lung_risks.csv")

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
  write.csv(out, "ref_decision_reclassification.csv", row.names = FALSE)
})

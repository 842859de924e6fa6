"""Statistics library: C-index, Cox models, stepwise AIC, calibration, ICC, Table 1.

Risk direction: every ``risk_score`` / linear predictor argument is HIGHER = WORSE
(higher hazard, shorter survival)."""

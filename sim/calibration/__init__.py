"""Calibration: history (the history file and its loader), patterns (targets and the model's values),
fit (the Nelder-Mead fit and its runs), report (check, hold-out, fit report, actuals)."""

"""Human-facing output: plots and self-contained HTML reports."""

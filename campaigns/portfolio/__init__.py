"""Portfolio import and synthetic portfolios."""

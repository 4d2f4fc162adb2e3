"""Speed measured as ratios to a bare baseline run in the same process, never as absolute times."""

"""Exercise checkers: each ``check_*`` prints a verdict that names the mistake and never raises."""

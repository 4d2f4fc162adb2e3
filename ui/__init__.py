"""wq-desktop's Qt layer: widgets only. It calls the core (wq_desktop); it never runs SQL."""

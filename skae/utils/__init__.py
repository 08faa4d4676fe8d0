"""Internal utilities of skae."""

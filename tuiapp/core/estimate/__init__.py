"""Peak training memory: the closed-form estimate and the exact check that simulates a real step."""

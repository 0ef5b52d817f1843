"""The gate's inputs and filters: config, waivers, baseline, and applying them to a result."""

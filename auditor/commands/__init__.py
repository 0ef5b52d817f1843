"""One module per CLI command; ``auditor.cli`` assembles them."""

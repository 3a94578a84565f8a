"""Performance figures reported by ``kalshi-wx bench`` as JSON."""

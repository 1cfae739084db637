"""The recommendations service: products often bought together."""

"""Dataflows: one module per flow, wiring only, plus the command line and the site configuration."""

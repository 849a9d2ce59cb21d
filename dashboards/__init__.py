"""Grafana dashboards as code and provisioning."""

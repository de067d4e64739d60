"""End-to-end tests: real Home Assistant and simulator processes."""

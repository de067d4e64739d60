"""Developer tools: run a real Home Assistant with this integration, for the demo and tests.

Nothing here is shipped with the integration. The modules use only the standard library
(except `ha_requirements`, which runs inside a Home Assistant virtual env, and `dashboard`,
which reads YAML with the PyYAML every Home Assistant env has), so the same code drives Home
Assistant from the test suite, from `scripts/develop` and from any venv.
"""

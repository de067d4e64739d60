"""Tests of the Site: its sums over the meters of every kind."""

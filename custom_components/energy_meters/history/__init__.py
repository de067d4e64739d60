"""Importing the old stack's history into the long-term statistics of our sensors.

A household that switches from *exporter → Prometheus → Grafana* (or a
stack writing to InfluxDB 1.x) brings its year of readings along: each
energy counter becomes hourly sums, each power series hourly mean, minimum
and maximum, written into the sensor's own statistics before its live ones
begin. Not a kind of entry: it works on the sensors of any kind through the
entity registry, and imports no kind's package.

- `counter`: samples of an old counter → hourly consumption, resets and
  glitches left out (pure).
- `sources`: Prometheus' and InfluxDB's HTTP APIs.
- `targets`: which sensor each old series goes into.
- `recorded`: what the recorder holds, the seam, and writing rows.
- `importer`: one import, prepared (the preview) then committed.
- `request`, `run`, `services`, `flow`: the action and the form around it.
"""

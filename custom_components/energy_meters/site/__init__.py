"""The Site: consumption, solar production and spare capacity over all meters.

It owns no meter: it sums the filtered power the other kinds publish, handed
to it as power sources (see `meter_power`), so it never imports them.
"""

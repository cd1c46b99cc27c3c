"""Widgets and helpers of the Streamlit app (``app.py``).

Nothing here decides a number: levers, indicators, targets and runs come from the rest
of :mod:`sim`; this package turns them into labels, tables and charts for readers of
Chinese (first) and English, and keeps the app's runs cached and reproducible.

- :mod:`sim.ui.text`: every label in both languages, units and number formats.
- :mod:`sim.ui.scenario`: presets, uploaded files, sliders and city overrides to a Scenario.
- :mod:`sim.ui.runner`: cached per-seed runs (indicators plus stocks by kind and city).
- :mod:`sim.ui.history`: published history points for an indicator's chart.
- :mod:`sim.ui.views`: the scorecard and comparison tables, and the Altair charts.
"""

"""Showing results to people: a summary in words (:mod:`~sim.present.tables`), figures
(:mod:`~sim.present.plots`) and the report (:mod:`~sim.present.reports`)."""

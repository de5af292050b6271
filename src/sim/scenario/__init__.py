"""Scenarios: the schema every input is validated against (:mod:`~sim.scenario.schema`),
scenario files read, merged along ``extends`` and overridden (:mod:`~sim.scenario.files`),
the distribution families (:mod:`~sim.scenario.distributions`), and the rows of the
parameter reference (:mod:`~sim.scenario.reference`)."""

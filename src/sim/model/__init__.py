"""The world being simulated, one module per part of it.

- :mod:`~sim.model.world`: the clock and the wiring of one replication.
- :mod:`~sim.model.projects`: mines, from exploration to output; :mod:`~sim.model.ramp`: ramp-up curves.
- :mod:`~sim.model.processing`: the domestic refinery and the routes output takes.
- :mod:`~sim.model.accounting`: value ladder, duties, cash flow, the yearly records.
- :mod:`~sim.model.market`: commodity prices.
- :mod:`~sim.model.confidence`: investor confidence.
- :mod:`~sim.model.program`: the three programme phases and stalling.
- Shocks: :mod:`~sim.model.security`, :mod:`~sim.model.refining`, :mod:`~sim.model.tariffs`,
  :mod:`~sim.model.infrastructure` and :mod:`~sim.model.governance`; :mod:`~sim.model.hazard` is their Poisson machinery.
"""

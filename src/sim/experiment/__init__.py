"""Running replications: the pipeline every run, sweep and analysis takes.

- :mod:`~sim.experiment.runner`: the plan of chunks, the sinks, and the one loop.
- :mod:`~sim.experiment.executors`: where chunks run (this process, a pool, Dask).
- :mod:`~sim.experiment.store`: a run folder written as it goes (shards, lock, resume).
- :mod:`~sim.experiment.manifest`: what a folder records about itself.
- :mod:`~sim.experiment.results`: the finished run; :mod:`~sim.experiment.sweeps`: designs and sweeps.
- :mod:`~sim.experiment.precision`: stopping at a target precision; :mod:`~sim.experiment.sizes`: refusing what cannot fit.
"""

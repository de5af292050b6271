"""Reading many replications: summaries (:mod:`~sim.analysis.stats`), paired comparisons
(:mod:`~sim.analysis.pairing`), global sensitivity (:mod:`~sim.analysis.gsa`) and
scenario discovery (:mod:`~sim.analysis.discovery`). They read tables and manifests,
never the model."""

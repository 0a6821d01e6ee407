"""NetworkX analysis of the referral graph. Pure functions: graph in, dicts out.

Every function takes a graph built by ``graphsvc.analysis.graph`` first, options
as keywords, and returns plain data keyed by node. None touches Neo4j.
"""

from .metrics import referrer_metrics
from .stages import monthly_stage_counts, stage_counts, stage_histories

__all__ = ["referrer_metrics", "stage_histories", "stage_counts", "monthly_stage_counts"]

"""County projections: entities re-derived from all their events, facts, activity, the digest."""

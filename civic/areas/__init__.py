"""UK geography: authority → districts (boroughs) → wards, with boundaries and census baselines."""

"""The SFT funnel (docs/recipe.md section 5, "Data quality"): judges in order, then semantic dedup."""

"""The SFT funnel (RECIPE.md section 5, "Data quality"): judges in order, then semantic dedup."""

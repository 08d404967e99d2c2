"""Corpus-global de-duplication steps (RECIPE.md section 1, "De-duplication")."""

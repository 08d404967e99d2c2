"""Corpus-global de-duplication steps (docs/recipe.md section 1, "De-duplication")."""

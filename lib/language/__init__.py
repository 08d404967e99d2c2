"""Language identification and per-language text units, shared by curation (every
document is labelled with its language before any language-specific rule runs,
docs/recipe.md section 1) and the multilingual capability (SFT rows, language match).

``detect``: the detector (lingua, whose models ship inside the package; or a fastText LID
model); ``settings``: its config; ``units``: words for space-separated scripts and
characters for the others; ``stopwords``: per-language stop-word lists from packages.
"""

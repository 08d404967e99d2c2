"""Readers of raw input: JSONL, Parquet, WARC, Hugging Face datasets saved to disk."""

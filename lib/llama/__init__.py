"""The Llama 3 model family (docs/recipe.md section 2): model, tokenizer, token packing, Hugging
Face checkpoints and generation. The ``llama`` plugin registers its generators."""

"""The Llama 3.1 chat format, in one place: ``format`` (rendering to ids, masks and text),
``tools`` (typed tool calls), ``template`` (the same format as a Jinja chat template for the
exported tokenizer), ``text_backend`` (``Generator.chat`` for text-only backends),
``openai_wire`` (messages in OpenAI's JSON) and ``rows`` (the text of SFT rows)."""

"""herd's library layer: what several plugins share (the Llama model family, the training
stage loop, the chat format, the sandbox chooser, the SFT funnel).

The layers are ``core`` (contracts: hook specs, protocols, records, config, pipeline),
``lib`` (this package; imports ``core`` only) and ``plugins`` (capabilities; import
``core`` and ``lib``, never one another)."""

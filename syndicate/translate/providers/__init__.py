"""Translation engines: ``apertium`` (local) and ``web`` (deep-translator engines and DeepL)."""

"""Store implementations: one module each, behind glyphmemory.store.Store."""

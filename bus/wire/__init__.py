"""Wire types: the typed, versioned messages agents exchange, the values they carry, and their msgpack codec."""

"""Tool use: turn a request into a call of a stored tool and run it in the sandbox."""

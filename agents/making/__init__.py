"""Tool making: propose candidate tools with the maker model, verify them, wrap the winner."""

"""Dispatch: find the stored tool for a request, cheaply, with a confidence."""

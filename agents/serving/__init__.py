"""The HTTP front door: latm behind the OpenAI chat API, locally or through Ray Serve."""

"""The main job: route a stream of requests to cached tools, make new tools on misses."""

"""The website's page areas and its API, one blueprint each, registered by the app factory."""

"""The website and its JSON API (Flask). Arrives with the web issue; it never imports torch."""

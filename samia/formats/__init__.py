"""Date and time formats Django's own locale files leave out (FORMAT_MODULE_PATH, looked up first)."""

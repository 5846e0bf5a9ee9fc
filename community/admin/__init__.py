from community.admin import comments, histories  # noqa: F401  (registers the admin pages)

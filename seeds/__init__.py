"""The story's facts (story.toml) and the illustrative demo population around them
(demo.py), loaded by `python manage.py load_seeds` (loader.py)."""

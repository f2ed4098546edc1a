"""Reading the service's database for the corrections export (``python -m pipelines.corrections``):
the accepted corrections (:mod:`.database`), database URLs as the service writes them
(:mod:`.database_url`) and the images the service kept (:mod:`.stored_images`).

The pipeline never imports the service (a serving image carries no training code, and training
carries no service), so what it needs of the service's schema and storage is read here, read-only.
"""

"""Images members put in posts and chat messages: uploaded through the one pipeline
(``forum.uploads``), owned by the uploader, served from this site (``/media/<name>``)
so the CSP keeps ``img-src 'self'``. ``service`` is the front."""

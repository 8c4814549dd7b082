"""The performance benchmark behind ``python3 dev.py bench`` / ``manage.py benchmark``.

It seeds the demo data set at scale, then measures every metrics endpoint through the whole
Django stack (gunicorn over loopback HTTP) beside its floor (the same SQL on a bare psycopg
connection), ingest rates beside a bare ``COPY``, and the server's peak memory. The modules:

- ``dataset``: seed or reuse the data set; the marker that says the benchmark owns it
- ``endpoints``: which URLs are timed, for which windows and scopes
- ``server``: gunicorn on a free loopback port, and its memory sampler
- ``transport``: timed requests over a keep-alive HTTP connection, or in-process
- ``floor``: capture a request's SQL in-process and re-time it on a raw connection
- ``ingestion``: bulk API and CSV import rates beside ``COPY`` into scratch tables
- ``machine``, ``report``: what ran where; ``bench/results/*.json`` and the table
- ``runner``: the order of all of it

docs/performance.md says what is measured and how to read the results.
"""

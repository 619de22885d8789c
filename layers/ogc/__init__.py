"""OGC web services (WFS 2.0.0 / 1.1.0 / 1.0.0, read and Transaction) from the layer catalogue.

views.py: /wfs and /ows (dispatch table by SERVICE=); auth.py: HTTP Basic with a short in-process
cache; xmlsafe.py: hardened XML; requests.py: KVP/XML -> one request object; crs.py: srsName forms and
axis order; filters.py: OGC Filter -> Django Q over catalogue properties only; capabilities.py,
describe.py, getfeature.py (SQL-generated GML/GeoJSON, streamed), transaction.py; exceptions.py."""

"""Open311 GeoReport v2 at /open311/v2/: our case classes as services, cases as service requests.
A thin protocol layer: every write goes through services.report_case, every read through selectors."""

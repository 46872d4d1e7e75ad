"""Sync Errors: every record Salesforce refused, as data a marketer can read, fix and resync.

- ``records``  classify a refusal into the guide's four categories, record it, resolve it,
               and explain it from describe (the single errorCode → category mapping)
- ``fix``      correct a prospect's value from an error (detail page, CSV re-import)
- ``resync``   ask for a prospect's sync again and report what became of it
- ``csv_io``   the streamed CSV export and the corrected-CSV re-import
- ``jobs``     the RQ jobs behind the bulk resync and the re-import
- ``tables``, ``filters``, ``views``  the Sync Errors pages
"""

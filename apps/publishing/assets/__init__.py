"""Media assets (DESIGN §4 MediaAsset, §6 Upload): streamed upload, storage, background probe,
access-checked and signed public serving.

uploads.py (the upload handler), services.py (writes), selectors.py (reads), probing.py (the one
call into the probe), serving.py (file responses), links.py (signed, expiring public URLs),
tasks.py (the probe task).
"""

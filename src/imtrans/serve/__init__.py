"""`imtrans serve`: the REST service and the web page, on the same pipeline as the CLI (see README.md)."""

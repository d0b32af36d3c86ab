"""One module per engine or vendor, each implementing a core protocol; and the shared client."""

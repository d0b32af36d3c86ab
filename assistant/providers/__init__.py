"""One module per engine or vendor, each implementing a core protocol; plus the app-wide HTTP client."""

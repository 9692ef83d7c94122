"""The home page and the service's fixed pages (privacy, accessibility, cookies)."""

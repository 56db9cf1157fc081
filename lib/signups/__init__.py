"""Sign-ups: sources (Google Sheets, CSV, Excel), column mapping, validation and sync."""

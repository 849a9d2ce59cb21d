"""Reports built from warehouse rows: meter measurement report, periodic reports, no-movement evidence."""

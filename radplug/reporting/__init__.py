"""Report: the HTML report and progress lines (REPORTING)."""

"""The batch report: papermill execution of the pages, planning and caching, the HTML."""

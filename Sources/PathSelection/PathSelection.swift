// Target PathSelection.
